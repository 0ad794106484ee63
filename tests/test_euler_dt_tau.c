/* dt = tau: an ordinary explicit Euler step, accepted by validation and
 * computed as by hand (issue: the authors' published runs use dt = tau_c).
 *
 * One path, d_in = d_out = 1, one sample x = 1 with target y* = 3, W = 2,
 * c = 1/2. Forward y = c W x = 1; L = (y - y*)^2 / 2 = 2; dL/dy = -2;
 * G = dL/dW_eff = -2; dW = c G = -1; dc = W G = -4. With dt = tau_w = tau_c
 * the step subtracts the whole gradient: W = 2 + 1 = 3, c = 1/2 + 4 = 9/2. */
#include <string.h>

#include "check.h"
#include "ntasweep/config/params.h"
#include "ntasweep/models/model_nta.h"
#include "ntasweep/train/train.h"

static const char *blame(const char *key, const char *value, const char *key2, const char *value2)
{
    static char err[256];
    ntas_params p;
    ntas_params_defaults(&p);
    const ntas_param_desc *d = &ntas_param_table[ntas_param_find(key)];
    if (ntas_param_parse(d, value, &p, err, sizeof err) != 0) return "parse";
    d = &ntas_param_table[ntas_param_find(key2)];
    if (ntas_param_parse(d, value2, &p, err, sizeof err) != 0) return "parse";
    const char *bad = "";
    return ntas_params_validate(&p, err, sizeof err, &bad) == 0 ? "" : bad;
}

static void hand_step(void)
{
    ntas_nta m;
    char err[256];
    CHECK(ntas_nta_init(&m, 1, 1, 1, err, sizeof err) == 0);
    m.W[0] = 2.0;
    m.c[0] = 0.5;
    double x = 1.0, ystar = 3.0, y, dy;
    ntas_nta_forward(&m, &x, 1, &y);
    CHECK_NEAR(y, 1.0, 0.0);
    CHECK_NEAR(ntas_mse(&y, &ystar, 1, 1, &dy), 2.0, 0.0);
    ntas_nta_backward(&m, &x, &dy, 1);
    CHECK_NEAR(m.dW[0], -1.0, 0.0);
    CHECK_NEAR(m.dc[0], -4.0, 0.0);
    double norm_dw, norm_dc;
    ntas_gated_paths_step(&m, 0.1, 0.1, 0.1, &norm_dw, &norm_dc);
    CHECK_NEAR(m.W[0], 3.0, 0.0);
    CHECK_NEAR(m.c[0], 4.5, 0.0);
    CHECK_NEAR(norm_dw, 1.0, 0.0);
    CHECK_NEAR(norm_dc, 4.0, 0.0);
    ntas_gated_paths_free(&m);
}

int main(void)
{
    /* Validation: dt = tau is accepted, dt > tau refused and blamed on dt. */
    CHECK(!strcmp(blame("tau_c", "0.01", "dt", "0.01"), ""));
    CHECK(!strcmp(blame("tau_c", "0.01", "dt", "0.0100001"), "dt"));
    CHECK(!strcmp(blame("tau_w", "0.02", "dt", "0.02"), ""));
    CHECK(!strcmp(blame("tau_w", "0.02", "dt", "0.03"), "dt"));
    hand_step();
    return CHECK_DONE();
}
