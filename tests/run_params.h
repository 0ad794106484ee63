/* run_params — what the tests that run a model in-process share: set a key
 * from its text, and one checked run of params p (valid, done, finite
 * losses). Include after check.h. */
#ifndef NTASWEEP_TEST_RUN_PARAMS_H
#define NTASWEEP_TEST_RUN_PARAMS_H

#include <math.h>

#include "ntasweep/config/params.h"
#include "ntasweep/train/train.h"

static int set(ntas_params *p, const char *key, const char *value)
{
    char err[256];
    int k = ntas_param_find(key);
    if (k < 0) return -1;
    return ntas_param_parse(&ntas_param_table[k], value, p, err, sizeof err);
}

/* One short run of params p; checks what every model must give. */
static int run(ntas_params *p, ntas_run_result *r)
{
    char err[512];
    const char *bad = NULL;
    CHECK_MSG(ntas_params_validate(p, err, sizeof err, &bad) == 0, "%s", err);
    if (ntas_run_result_init(r, p, err, sizeof err) != 0) {
        CHECK_MSG(0, "%s", err);
        return -1;
    }
    int rc = ntas_train_run(p, ntas_params_run_key(p), r, NULL, NULL, err, sizeof err);
    CHECK_MSG(rc == 0 && r->status == NTAS_STATUS_DONE, "rc %d: %s %s", rc, err, r->message);
    for (int64_t k = 0; k < r->n_records; k++) CHECK(isfinite(r->loss[k]));
    return rc;
}

#endif
