/* model_registry — the one list of models, and what a run records.
 *
 * Owns the registry (one line per model in model_registry.c) and the
 * questions every layer above asks through it instead of switching on the
 * model: which table runs a model (model.h), which result groups a run
 * records and the extents of its arrays (results.h), for the run itself,
 * the results file (io/store.c) and the benchmark (bench.c).
 */
#ifndef NTASWEEP_MODEL_REGISTRY_H
#define NTASWEEP_MODEL_REGISTRY_H

#include <stdint.h>

#include "ntasweep/config/params.h"
#include "ntasweep/models/model.h"
#include "ntasweep/models/results.h"

/* The table of model kind (ntas_model_kind), or NULL. */
const ntas_model_ops *ntas_model_of_kind(int kind);
/* The table of p->model, or NULL. */
const ntas_model_ops *ntas_model_of(const ntas_params *p);
/* Registered models, in registry order: i < ntas_model_count(). */
int ntas_model_count(void);
const ntas_model_ops *ntas_model_at(int i);

/* NTAS_RG_BIT of every result group a run with params p records. */
unsigned ntas_result_groups(const ntas_params *p);

/* Extents of a run's arrays (ntas_result_extent) from its params. Returns
 * -1 when the teacher options give fewer tasks than teachers (invalid
 * params); ext[NTAS_EXT_TASKS] is then the number of teachers. */
int ntas_result_extents(const ntas_params *p, int64_t ext[NTAS_EXT_COUNT]);

#endif
