/* model_registry — the one list of models. See model_registry.h.
 *
 * Adding a model: its table in its own .c (model.h), one line below, and
 * its `model` choice in params (docs/adding-a-model.md). */
#include "ntasweep/train/model_registry.h"

#include <stddef.h>
#include <string.h>

#include "ntasweep/core/err.h"
#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/tasks/teachers.h"
#include "ntasweep/train/cnn_head.h"
#include "ntasweep/train/train.h"

static const ntas_model_ops *const registry[] = {
    &ntas_model_nta,
    &ntas_model_nta_neuron,
    &ntas_model_fc,
    &ntas_model_reduced,
    &ntas_model_cnn_nta,
    &ntas_model_cnn_alone,
};
enum { N_MODELS = (int)(sizeof registry / sizeof registry[0]) };

int ntas_model_count(void)
{
    return N_MODELS;
}

const ntas_model_ops *ntas_model_at(int i)
{
    return i >= 0 && i < N_MODELS ? registry[i] : NULL;
}

const ntas_model_ops *ntas_model_of_kind(int kind)
{
    for (int i = 0; i < N_MODELS; i++)
        if (registry[i]->kind == kind) return registry[i];
    return NULL;
}

const ntas_model_ops *ntas_model_of(const ntas_params *p)
{
    return ntas_model_of_kind((int)p->model);
}

unsigned ntas_result_groups(const ntas_params *p)
{
    const ntas_model_ops *m = ntas_model_of(p);
    unsigned g = NTAS_RG_BIT(NTAS_RG_ALL);
    if (p->curriculum != NTAS_CURRICULUM_ALTERNATING || p->composition != NTAS_COMPOSE_NONE)
        g |= NTAS_RG_BIT(NTAS_RG_TASKS);
    if (!m) return g;
    if (m->task == NTAS_TASK_TEACHERS) g |= NTAS_RG_BIT(NTAS_RG_TEACHERS);
    return g | m->groups;
}

int ntas_result_extents(const ntas_params *p, int64_t ext[NTAS_EXT_COUNT])
{
    const ntas_model_ops *m = ntas_model_of(p);
    int64_t n_tasks = m && m->own_teachers ? p->teachers : ntas_params_n_tasks(p);
    int rc = 0;
    if (n_tasks < p->teachers) {
        n_tasks = p->teachers;
        rc = -1;
    }
    ext[NTAS_EXT_RECORDS] = ntas_params_n_records(p);
    ext[NTAS_EXT_BLOCKS] = p->n_blocks;
    ext[NTAS_EXT_PATHS] = p->paths;
    ext[NTAS_EXT_TEACHERS] = p->teachers;
    ext[NTAS_EXT_TASKS] = n_tasks;
    ext[NTAS_EXT_OUT] = p->d_out;
    ext[NTAS_EXT_IN] = p->d_in;
    ext[NTAS_EXT_HIDDEN] = m && m->hidden_units ? m->hidden_units(p) : 0;
    ext[NTAS_EXT_MODES] = p->d_out < p->d_in ? p->d_out : p->d_in;
    return rc;
}

int ntas_run_result_init(ntas_run_result *r, const ntas_params *p, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    int64_t ext[NTAS_EXT_COUNT];
    if (!ntas_model_of(p)) {
        ntas_set_err(err, errlen, "model %lld has no entry in the model registry", (long long)p->model);
        return -1;
    }
    if (ntas_result_extents(p, ext) != 0) {
        ntas_set_err(err, errlen, "invalid teacher options (run ntasweep validate)");
        return -1;
    }
    r->n_records = ext[NTAS_EXT_RECORDS];
    r->n_blocks = ext[NTAS_EXT_BLOCKS];
    r->model = (int)p->model;
    r->P = (int)ext[NTAS_EXT_PATHS];
    r->M = (int)ext[NTAS_EXT_TEACHERS];
    r->n_tasks = (int)ext[NTAS_EXT_TASKS];
    r->d_out = (int)ext[NTAS_EXT_OUT];
    r->d_in = (int)ext[NTAS_EXT_IN];
    r->d_hid = (int)ext[NTAS_EXT_HIDDEN];
    r->n_modes = (int)ext[NTAS_EXT_MODES];
    r->groups = ntas_result_groups(p);
    return ntas_run_result_alloc(r, err, errlen);
}
