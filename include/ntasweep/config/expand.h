/* expand — a plan (plan.h) into the run table (last stage of spec.h).
 *
 * Run-table order: cases (file order) x zip x grid (first key slowest) x
 * replicate seeds. Each run's values are applied in the order [params],
 * case, zip, grid, seed, --set, [derived]; the run is then validated and
 * its key computed. Two runs with one key are refused.
 */
#ifndef NTASWEEP_EXPAND_H
#define NTASWEEP_EXPAND_H

#include "ntasweep/config/ini_scan.h"
#include "ntasweep/config/plan.h"
#include "ntasweep/config/spec.h"

/* Fills s->runs and s->n_runs. 0, or -1 with the message in sc->err. */
int ntas_expand(ntas_ini_scan *sc, ntas_spec *s, const ntas_plan *pl);

#endif
