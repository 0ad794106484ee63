/* params — the canonical key table and validation. See params.h. */
#include "ntasweep/config/params.h"
#include "ntasweep/core/err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ntasweep/core/text.h"
#include "ntasweep/tasks/curriculum.h"
#include "ntasweep/core/rng.h"

/* Choice order is the enum order (params.h, teachers.h, curriculum.h); new
 * choices go at the end, so the value of an existing one never changes. */
static const char *const model_choices[] = {"nta", "nta_neuron", "fc", "reduced", "cnn_nta", "cnn_alone", NULL};
static const char *const dataset_choices[] = {"none", "mnist", "fashion", NULL};
static const char *const label_map_choices[] = {"identity", "parity", "upper_lower", "warm_cold", NULL};
static const char *const teacher_choices[] = {"orthogonal", "correlated", "lowrank", "correlated_random", NULL};
static const char *const curriculum_choices[] = {"alternating", "composition", "composites", NULL};
static const char *const composition_choices[] = {"none", "task", "subtask", NULL};
static const char *const reduced_init_choices[] = {"random", "specialized", "collapsed", "given", NULL};
static const char *const norm_choices[] = {"l1", "l2", NULL};
static const char *const data_choices[] = {"sampled", "wishart", "expected", NULL};
static const char *const scaling_choices[] = {"fan_in", "unit", "unit_sum", NULL};
static const char *const dt_limit_choices[] = {"tau", "none", NULL};
static const char *const weight_cost_choices[] = {"squared", "column_norm", NULL};
static const char *const cnn_precision_choices[] = {"float64", "float32", NULL};
static const char *const init_gates_choices[] = {"half", "uniform", "normal", NULL};

#define OFF(field) offsetof(ntas_params, field)
#define BIG 1e15

/* Defaults are the paper's Fig. 2 flexible setting (Table 2, SPEC-NOTES §9). */
const ntas_param_desc ntas_param_table[] = {
    {"model", NTAS_PT_CHOICE, OFF(model), "nta", 0, 0, 0, model_choices, "", "",
     "model variant: nta = per-path scalar gates, Eq. (1); nta_neuron = per-neuron gates c_pi "
     "(App. A.8); fc = 2-layer fully connected y = W2 W1 x, d_hid = paths*d_out, W2 regularised "
     "as gates (Sec. 7); reduced = 2-D model of Sec. 5 (needs d_in=1, d_out=2, paths=teachers=2, batch=1); "
     "cnn_nta = NTA head on the 64 features of a pretrained CNN, log-softmax cross-entropy (Sec. 8; "
     "needs dataset, d_in=64, d_out=10, teachers=2); cnn_alone = the CNN's own pretrained 64->10 head "
     "trained by AdamW on the same curriculum (baseline)", 0},
    {"d_in", NTAS_PT_INT, OFF(d_in), "20", 1, 100000, 0, NULL, "d_in", "",
     "input dimension", 0},
    {"d_out", NTAS_PT_INT, OFF(d_out), "10", 1, 100000, 0, NULL, "d_out", "",
     "output dimension", 0},
    {"paths", NTAS_PT_INT, OFF(paths), "2", 1, 4096, 0, NULL, "P", "",
     "number of student paths, each with its gate c_p", 0},
    {"teachers", NTAS_PT_INT, OFF(teachers), "2", 1, 4096, 0, NULL, "M", "",
     "number of tasks (teachers W*^m)", 0},
    {"teacher", NTAS_PT_CHOICE, OFF(teacher), "orthogonal", 0, 0, 0, teacher_choices, "W*^m", "",
     "teacher family: orthogonal = rows of a Haar orthogonal matrix / sqrt(d_in); correlated = "
     "all rows with pairwise cosine rho (App. A.9); lowrank = rank teacher_rank, disjoint singular "
     "vectors (App. A.2); correlated_random = the authors' Fig. A.13 teachers: every row x_0 + "
     "sqrt((1-rho)/rho) xi_k (x_0 a random unit vector, xi_k ~ N(0, I/d_in)) normalised, so row "
     "cosines are random with mean ~rho; rho = 0 is orthogonal, rho = 1 gives identical rows", 0},
    {"teacher_seed", NTAS_PT_INT, OFF(teacher_seed), "0", 0, BIG, 0, NULL, "", "",
     "seed of the teachers; one value shared by all replicate seeds", 0},
    {"curriculum", NTAS_PT_CHOICE, OFF(curriculum), "alternating", 0, 0, 0, curriculum_choices, "", "",
     "task order over blocks: alternating = A, B, A, B, ...; composition = base tasks for "
     "floor(0.75 n_blocks) blocks, then the composites (Fig. 3); composites = composites only (Fig. A.14)", 0},
    {"batch", NTAS_PT_INT, OFF(batch), "200", 1, 10000000, 0, NULL, "B", "samples",
     "fresh Gaussian inputs x ~ N(0, I) per Euler step", 0},
    {"dt", NTAS_PT_REAL, OFF(dt), "0.001", 0, BIG, 1, NULL, "dt", "time",
     "explicit Euler step of the gradient flow", 0},
    {"tau_w", NTAS_PT_REAL, OFF(tau_w), "1.3", 0, BIG, 1, NULL, "tau_w", "time",
     "time constant of the weights W_p (inverse learning rate)", 0},
    {"tau_c", NTAS_PT_REAL, OFF(tau_c), "0.03", 0, BIG, 1, NULL, "tau_c", "time",
     "time constant of the gates c_p (inverse learning rate)", 0},
    {"block_len", NTAS_PT_REAL, OFF(block_len), "1", 0, BIG, 1, NULL, "tau_B", "time",
     "length of one task block", 0},
    {"n_blocks", NTAS_PT_INT, OFF(n_blocks), "20", 1, 10000000, 0, NULL, "n", "blocks",
     "number of blocks in the curriculum", 0},
    {"norm", NTAS_PT_CHOICE, OFF(norm), "l1", 0, 0, 0, norm_choices, "k", "",
     "norm of the gate vector in L_norm = (||c||_k - 1)^2", 0},
    {"lambda_nonneg", NTAS_PT_REAL, OFF(lambda_nonneg), "0.091", 0, BIG, 0, NULL, "lambda_nonneg", "",
     "weight of L_nonneg = sum_p max(0, -c_p)", 0},
    {"lambda_norm", NTAS_PT_REAL, OFF(lambda_norm), "0.456", 0, BIG, 0, NULL, "lambda_norm", "",
     "weight of L_norm = (||c||_k - 1)^2 (table value, factor 1/2 folded in)", 0},
    {"lambda_w", NTAS_PT_REAL, OFF(lambda_w), "0", 0, BIG, 0, NULL, "lambda_W", "",
     "weight of the weight cost (App. A.3), in the form weight_cost (default squared: "
     "lambda_W/(2 P d_in) sum W^2); 0 = off", 0},
    {"seed", NTAS_PT_INT, OFF(seed), "0", 0, BIG, 0, NULL, "", "",
     "replicate seed (weight init and input stream)", 0},
    {"record_every", NTAS_PT_INT, OFF(record_every), "10", 1, 100000000, 0, NULL, "", "steps",
     "store loss, gates, cos_sim and update norms every this many steps", 0},
    {"init_sigma", NTAS_PT_REAL, OFF(init_sigma), "0.01", 0, BIG, 0, NULL, "sigma", "",
     "weight init W_ij ~ N(0, sigma^2 / d_in)", 0},
    /* Added with the model variants: hashed into the run key only when not
     * at their default (added = 1), so earlier run keys are unchanged. */
    {"rho", NTAS_PT_REAL, OFF(rho), "0", 0, 1, 0, NULL, "rho", "",
     "teacher=correlated: pairwise cosine of all teacher rows, < 1 (App. A.9); teacher="
     "correlated_random: the mean of the random row cosines, <= 1 (Fig. A.13)", 1},
    {"teacher_rank", NTAS_PT_INT, OFF(teacher_rank), "1", 1, 100000, 0, NULL, "r", "",
     "teacher=lowrank: rank of each teacher; teachers*r <= min(d_in, d_out) (App. A.2)", 1},
    {"composition", NTAS_PT_CHOICE, OFF(composition), "none", 0, 0, 0, composition_choices, "", "",
     "composite tasks after the M base ones: task = mix*A + (1-mix)*B; subtask = even rows of A, "
     "odd rows of B (Sec. 4, App. A.8); composites AB, BC, ..., one (AB) for M = 2", 1},
    {"mix", NTAS_PT_REAL, OFF(mix), "0.5", 0, 1, 0, NULL, "", "",
     "composition=task: weight of base task k in composite k (paper 0.5)", 1},
    {"tau_w2", NTAS_PT_REAL, OFF(tau_w2), "0.01", 0, BIG, 1, NULL, "tau_W2", "time",
     "model=fc: time constant of the second layer W2 (tau_w is W1's; Table 2 FC: tau_c column "
     "0.01); tau_c is unused by fc", 1},
    {"reduced_init", NTAS_PT_CHOICE, OFF(reduced_init), "random", 0, 0, 0, reduced_init_choices, "", "",
     "model=reduced: random = w ~ N(0, init_sigma^2), c = 1/2; specialized = w^p_m = delta_pm, "
     "c = (1, 0) (Fig. 4E); collapsed = w^1 = w^2 = e_1, c = (1/2, 1/2), both "
     "students on one teacher (the authors' start of the forgetful panel of Fig. 4); given = w^p_m = "
     "reduced_w<p><m>, c_p = reduced_c<p> (the authors' starts of Figs. A.1, A.9)", 1},
    /* Added with the CNN-embedded variant (Sec. 8, App. B.7). Where the
     * image files are is not a key (moving them must not change run keys):
     * see pretrain.h, NTASWEEP_MNIST_DIR / NTASWEEP_FASHION_DIR. */
    {"dataset", NTAS_PT_CHOICE, OFF(dataset), "none", 0, 0, 0, dataset_choices, "", "",
     "model=cnn_nta, cnn_alone: images the CNN is pretrained on and the tasks classify: mnist "
     "(Fig. 7) or fashion (Fashion-MNIST, Fig. A.15)", 1},
    {"label_map", NTAS_PT_CHOICE, OFF(label_map), "parity", 0, 0, 0, label_map_choices, "", "",
     "model=cnn_nta, cnn_alone: labels of task 2 (task 1 keeps the original ones): parity = "
     "y -> floor(y/2) + 5 (y mod 2) (Fig. 7); upper_lower, warm_cold = the Fashion-MNIST orders of "
     "Fig. A.15; identity = task 2 equals task 1", 1},
    {"cnn_steps", NTAS_PT_INT, OFF(cnn_steps), "3000", 0, 10000000, 0, NULL, "", "steps",
     "model=cnn_nta, cnn_alone: AdamW steps of the CNN's pretraining (batch 512, lr 1e-3, weight "
     "decay 0.01); pretrained once per sweep and stored in the results file", 1},
    {"cnn_seed", NTAS_PT_INT, OFF(cnn_seed), "0", 0, BIG, 0, NULL, "", "",
     "model=cnn_nta, cnn_alone: seed of the CNN's init and pretraining batches (shared by the "
     "replicate seeds, like teacher_seed)", 1},
    {"data", NTAS_PT_CHOICE, OFF(data), "sampled", 0, 0, 0, data_choices, "", "",
     "how a step sees its batch: sampled = B fresh inputs x ~ N(0, I); wishart = only S = X^T X / B, "
     "drawn directly from its Wishart law (exact in distribution, other random numbers than sampled; "
     "batch < d_in falls back to sampled); expected = S = I, the batch -> infinity gradient flow. "
     "wishart and expected: models nta, nta_neuron, fc; reduced takes expected (its input x = 1 is "
     "already deterministic)", 1},
    /* The authors' code changed convention in Oct. 2024; Figs. 5, 3/A.12,
     * A.13, A.14 come from runs before the change (SPEC-NOTES §1). */
    {"scaling", NTAS_PT_CHOICE, OFF(scaling), "fan_in", 0, 0, 0, scaling_choices, "", "",
     "fan_in = teacher singular values 1/sqrt(d_in), L_task = 1/2 sum_i <(y*_i - y_i)^2> (published "
     "code; Figs. 2, 3, 4, 6, 8, A.1, A.3, A.16); unit = singular values 1, L_task = 1/2 mean_i <(y*_i - y_i)^2> "
     "(the authors' earlier runs: Figs. 5, A.12-A.14); unit_sum = singular values 1 with the summed "
     "L_task (the authors' Fig. A.2 run); not for model=reduced", 1},
    {"dt_limit", NTAS_PT_CHOICE, OFF(dt_limit), "tau", 0, 0, 0, dt_limit_choices, "", "",
     "tau = dt must not exceed tau_w, tau_c (fc: tau_w2), so no explicit Euler step overshoots a "
     "unit-curvature quadratic; none = no bound, for the authors' coarse runs (Fig. 3 subtask "
     "composition: dt = 2 tau_c; Fig. A.7: dt = 0.01 > tau_W2 = 0.0075); a run that diverges "
     "is marked failed", 1},
    {"weight_cost", NTAS_PT_CHOICE, OFF(weight_cost), "squared", 0, 0, 0, weight_cost_choices, "", "",
     "form of the weight cost lambda_w: squared = lambda_W/(2 P d_in) sum W^2 (App. A.3 as written); "
     "column_norm = lambda_W/(P d_in) sum_{p,j} ||W_p[:, j]||_2, the mean column 2-norm, not squared "
     "(the authors' Fig. A.3 code; subgradient 0 at a zero column). fc: W1's d_out-row blocks are the "
     "W_p. Not for model=cnn_alone (no weight cost)", 1},
    /* Starting states of the authors' runs (issue #18). */
    {"reduced_w11", NTAS_PT_REAL, OFF(reduced_w11), "0", -1000, 1000, 0, NULL, "w^1_1", "",
     "model=reduced, reduced_init=given: initial component of student 1 along teacher 1 (e_1)", 1},
    {"reduced_w12", NTAS_PT_REAL, OFF(reduced_w12), "0", -1000, 1000, 0, NULL, "w^1_2", "",
     "model=reduced, reduced_init=given: initial component of student 1 along teacher 2 (e_2)", 1},
    {"reduced_w21", NTAS_PT_REAL, OFF(reduced_w21), "0", -1000, 1000, 0, NULL, "w^2_1", "",
     "model=reduced, reduced_init=given: initial component of student 2 along teacher 1 (e_1)", 1},
    {"reduced_w22", NTAS_PT_REAL, OFF(reduced_w22), "0", -1000, 1000, 0, NULL, "w^2_2", "",
     "model=reduced, reduced_init=given: initial component of student 2 along teacher 2 (e_2)", 1},
    {"reduced_c1", NTAS_PT_REAL, OFF(reduced_c1), "0.5", -1000, 1000, 0, NULL, "c_1", "",
     "model=reduced, reduced_init=given: initial gate of student 1", 1},
    {"reduced_c2", NTAS_PT_REAL, OFF(reduced_c2), "0.5", -1000, 1000, 0, NULL, "c_2", "",
     "model=reduced, reduced_init=given: initial gate of student 2", 1},
    {"init_seed", NTAS_PT_INT, OFF(init_seed), "-1", -1, BIG, 0, NULL, "", "",
     "-1 = the initial weights come from the run's own random stream (they differ between seeds "
     "and cases); >= 0 = from a stream keyed by init_seed alone, so every run with the same "
     "init_seed and shapes starts from the same W (the authors' one fixed initial W for all "
     "seeds of Figs. A.1, A.16); the inputs stay each run's own", 1},
    {"cnn_precision", NTAS_PT_CHOICE, OFF(cnn_precision), "float64", 0, 0, 0, cnn_precision_choices, "", "",
     "model=cnn_nta, cnn_alone: arithmetic of the CNN pretraining's GEMMs (convolution, fc1..fc3, forward and "
     "backward): float64 = double throughout; float32 = float inputs, weights and products (the paper's JAX "
     "default), biases, activations and AdamW in double; a setting of its own, stored apart (docs/speed.md)", 1},
    {"init_gates", NTAS_PT_CHOICE, OFF(init_gates), "half", 0, 0, 0, init_gates_choices, "", "",
     "model=nta, nta_neuron: initial gates: half = every c_p = 1/2 (the paper); uniform = each c_p ~ U(0, 1); "
     "normal = each c_p = 1/2 + init_gates_sigma N(0, 1); drawn from a stream of their own (issue #18: "
     "the authors' published code keeps an unused gate key and std_c = 0 beside c = 1/2)", 1},
    {"init_gates_sigma", NTAS_PT_REAL, OFF(init_gates_sigma), "0.1", 0, 10, 0, NULL, "", "",
     "init_gates = normal: standard deviation of the initial gates around 1/2", 1},
};
const int ntas_param_count = (int)(sizeof ntas_param_table / sizeof ntas_param_table[0]);
_Static_assert(sizeof ntas_param_table / sizeof ntas_param_table[0] <= NTAS_RUN_KEY_MAX_PARAMS,
               "ntas_run_key_cache holds one line per key: raise NTAS_RUN_KEY_MAX_PARAMS");

int ntas_param_find(const char *key)
{
    for (int i = 0; i < ntas_param_count; i++)
        if (strcmp(ntas_param_table[i].key, key) == 0) return i;
    return -1;
}

const char *ntas_param_suggest(const char *key)
{
    const char *best = NULL;
    int best_d = 1 << 30;
    for (int i = 0; i < ntas_param_count; i++) {
        int d = ntas_edit_distance(key, ntas_param_table[i].key);
        if (d < best_d) { best_d = d; best = ntas_param_table[i].key; }
    }
    int allowed = (int)strlen(key) / 3 > 2 ? (int)strlen(key) / 3 : 2;
    return best_d <= allowed ? best : NULL;
}

static int64_t *int_field(const ntas_param_desc *d, ntas_params *p)
{
    return (int64_t *)((char *)p + d->offset);
}
static double *real_field(const ntas_param_desc *d, ntas_params *p)
{
    return (double *)((char *)p + d->offset);
}

int64_t ntas_param_get_int(const ntas_param_desc *d, const ntas_params *p)
{
    return *(const int64_t *)((const char *)p + d->offset);
}
double ntas_param_get_real(const ntas_param_desc *d, const ntas_params *p)
{
    return *(const double *)((const char *)p + d->offset);
}
const char *ntas_param_get_choice(const ntas_param_desc *d, const ntas_params *p)
{
    return d->choices[ntas_param_get_int(d, p)];
}

static void range_text(const ntas_param_desc *d, char *buf, size_t len)
{
    if (d->max >= BIG)
        snprintf(buf, len, "%s %g", d->min_open ? ">" : ">=", d->min);
    else
        snprintf(buf, len, "in %s%g, %g]", d->min_open ? "(" : "[", d->min, d->max);
}

int ntas_param_parse(const ntas_param_desc *d, const char *text, ntas_params *p,
                     char *err, size_t errlen)
{
    while (isspace((unsigned char)*text)) text++;
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1])) n--;
    char buf[128];
    if (n == 0) { ntas_set_err(err, errlen, "empty value"); return -1; }
    if (n >= sizeof buf) { ntas_set_err(err, errlen, "value too long (%zu characters)", n); return -1; }
    memcpy(buf, text, n);
    buf[n] = '\0';

    char range[64];   /* filled only for a message: formatting costs more than parsing */
    /* Plain decimal only: strtod would also take hex (0x14), "infinity", ... */
    if (d->type != NTAS_PT_CHOICE && buf[strspn(buf, "0123456789+-.eE")] != '\0') {
        ntas_set_err(err, errlen, "'%s' is not %s (plain decimal notation)", buf, d->type == NTAS_PT_INT ? "an integer" : "a number");
        return -1;
    }
    switch (d->type) {
    case NTAS_PT_CHOICE:
        for (int i = 0; d->choices[i]; i++)
            if (strcasecmp(buf, d->choices[i]) == 0) { *int_field(d, p) = i; return 0; }
        {
            size_t used = (size_t)snprintf(err, errlen, "'%s' is not one of:", buf);
            for (int i = 0; d->choices[i] && used < errlen; i++)
                used += (size_t)snprintf(err + used, errlen - used, " %s", d->choices[i]);
        }
        return -1;
    case NTAS_PT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (*end != '\0') {
            /* Accept integral reals such as 1e3, reject 2.5. */
            double r = strtod(buf, &end);
            if (*end != '\0' || !isfinite(r) || r != floor(r) || fabs(r) > 9e15) {
                ntas_set_err(err, errlen, "'%s' is not an integer", buf);
                return -1;
            }
            v = (long long)r;
        } else if (errno == ERANGE) {
            range_text(d, range, sizeof range);
            ntas_set_err(err, errlen, "'%s' is out of range (must be %s)", buf, range);
            return -1;
        }
        if ((double)v < d->min || (double)v > d->max || (d->min_open && (double)v <= d->min)) {
            range_text(d, range, sizeof range);
            ntas_set_err(err, errlen, "%lld is out of range (must be %s)", v, range);
            return -1;
        }
        *int_field(d, p) = v;
        return 0;
    }
    case NTAS_PT_REAL: {
        char *end;
        double v = strtod(buf, &end);
        if (*end != '\0') { ntas_set_err(err, errlen, "'%s' is not a number", buf); return -1; }
        if (!isfinite(v)) { ntas_set_err(err, errlen, "'%s' is not a finite number", buf); return -1; }
        if (v == 0.0) v = 0.0;   /* -0 and 0 compute the same: one canonical text, one run key */
        if (v < d->min || v > d->max || (d->min_open && v <= d->min)) {
            range_text(d, range, sizeof range);
            ntas_set_err(err, errlen, "%s is out of range (must be %s)", buf, range);
            return -1;
        }
        *real_field(d, p) = v;
        return 0;
    }
    }
    ntas_set_err(err, errlen, "internal: unknown parameter type");
    return -1;
}

void ntas_param_format(const ntas_param_desc *d, const ntas_params *p, char *buf, size_t len)
{
    if (!buf || len == 0) return;
    switch (d->type) {
    case NTAS_PT_CHOICE: snprintf(buf, len, "%s", ntas_param_get_choice(d, p)); break;
    case NTAS_PT_INT: snprintf(buf, len, "%lld", (long long)ntas_param_get_int(d, p)); break;
    case NTAS_PT_REAL: {
        /* Shortest text that reads back to the same double: canonical (one
         * text per value, so run keys are stable) and readable. */
        double v = ntas_param_get_real(d, p);
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, len, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) break;
        }
        break;
    }
    }
}

void ntas_params_defaults(ntas_params *p)
{
    memset(p, 0, sizeof *p);
    char err[256];
    for (int i = 0; i < ntas_param_count; i++) {
        int rc = ntas_param_parse(&ntas_param_table[i], ntas_param_table[i].default_text, p, err, sizeof err);
        (void)rc; /* defaults are checked by tests/test_params.c */
    }
}

int64_t ntas_params_steps_per_block(const ntas_params *p)
{
    return ntas_steps_per_block(p->block_len, p->dt);
}
int64_t ntas_params_total_steps(const ntas_params *p)
{
    return ntas_params_steps_per_block(p) * p->n_blocks;
}
int64_t ntas_params_n_records(const ntas_params *p)
{
    int64_t steps = ntas_params_total_steps(p);
    return (steps + p->record_every - 1) / p->record_every;
}

/* Limits that keep one run's memory and the results file sane; a sweep
 * beyond them is almost certainly a typo (e.g. dt = 1e-9). */
#define MAX_TOTAL_STEPS 2000000000LL
#define MAX_RECORDS 10000000LL

void ntas_params_teacher_opts(const ntas_params *p, ntas_teacher_opts *o)
{
    ntas_teacher_opts_init(o, (int)p->d_in, (int)p->d_out, (int)p->teachers, p->teacher_seed);
    o->family = (int)p->teacher;
    o->rho = p->rho;
    o->rank = (int)p->teacher_rank;
    o->compose = (int)p->composition;
    o->mix = p->mix;
    o->unit_scale = p->scaling == NTAS_SCALING_UNIT || p->scaling == NTAS_SCALING_UNIT_SUM;
}

int64_t ntas_params_n_tasks(const ntas_params *p)
{
    if (p->model == NTAS_MODEL_REDUCED) return 2;   /* e_1, e_2 */
    if (p->d_in > 100000 || p->d_out > 100000 || p->teachers > 4096) return -1;
    ntas_teacher_opts o;
    ntas_params_teacher_opts(p, &o);
    char err[8];
    return ntas_teachers_count(&o, err, sizeof err);
}

int ntas_params_sorted_model(const ntas_params *p)
{
    return p->model == NTAS_MODEL_NTA_NEURON || p->model == NTAS_MODEL_FC;
}

int ntas_params_cnn_model(const ntas_params *p)
{
    return p->model == NTAS_MODEL_CNN_NTA || p->model == NTAS_MODEL_CNN_ALONE;
}

/* The CNN variants are fixed in shape (SPEC-NOTES §8): 64 features in, 10
 * classes out, two tasks in alternation; other values are asked for
 * explicitly rather than silently ignored (the run key holds them). */
static int validate_cnn(const ntas_params *p, char *err, size_t errlen, const char **bad_key)
{
    if (!ntas_params_cnn_model(p)) {
        /* Only these five defaults, found by field: all of them would cost
         * more than the rest of validating a run (10^6-run sweeps). */
        ntas_params defaults;
        memset(&defaults, 0, sizeof defaults);
        for (int i = 0; i < ntas_param_count; i++) {
            const ntas_param_desc *k = &ntas_param_table[i];
            if (k->offset == offsetof(ntas_params, dataset) || k->offset == offsetof(ntas_params, label_map) ||
                k->offset == offsetof(ntas_params, cnn_steps) || k->offset == offsetof(ntas_params, cnn_seed) ||
                k->offset == offsetof(ntas_params, cnn_precision)) {
                char why[128];
                (void)ntas_param_parse(k, k->default_text, &defaults, why, sizeof why);
            }
        }
        const ntas_params *d = &defaults;
        const char *key = p->dataset != d->dataset ? "dataset" : p->label_map != d->label_map ? "label_map"
                        : p->cnn_steps != d->cnn_steps ? "cnn_steps" : p->cnn_seed != d->cnn_seed ? "cnn_seed"
                        : p->cnn_precision != d->cnn_precision ? "cnn_precision" : NULL;
        if (key) {
            ntas_set_err(err, errlen, "%s only applies to model=cnn_nta or cnn_alone", key);
            *bad_key = key;
            return -1;
        }
        return 0;
    }
    const char *name = p->model == NTAS_MODEL_CNN_NTA ? "cnn_nta" : "cnn_alone";
    if (p->model == NTAS_MODEL_CNN_ALONE && p->weight_cost != NTAS_WEIGHT_COST_SQUARED) {
        /* AdamW's decoupled weight decay is cnn_alone's only weight cost;
         * lambda_w is not applied, so a form of it would be silently ignored. */
        ntas_set_err(err, errlen, "model=cnn_alone has no weight cost lambda_w (AdamW's weight decay only): "
                 "weight_cost does not apply");
        *bad_key = "weight_cost";
        return -1;
    }
    if (p->scaling != NTAS_SCALING_FAN_IN) {
        ntas_set_err(err, errlen, "model=%s has no teachers and a cross-entropy loss: scaling does not apply", name);
        *bad_key = "scaling";
        return -1;
    }
    if (p->data != NTAS_DATA_SAMPLED) {
        /* Cross-entropy on image features: the loss depends on the batch
         * through more than its second moment, so only real batches exist. */
        ntas_set_err(err, errlen, "model=%s trains on batches of image features: data must be sampled", name);
        *bad_key = "data";
        return -1;
    }
    if (p->dataset == NTAS_DATASET_NONE) {
        ntas_set_err(err, errlen, "model=%s needs a dataset: set dataset = mnist or fashion", name);
        *bad_key = "dataset";
        return -1;
    }
    struct { const char *key; int64_t have, want; } fixed[] = {
        {"d_in", p->d_in, 64}, {"d_out", p->d_out, 10}, {"teachers", p->teachers, 2},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i].have != fixed[i].want) {
            ntas_set_err(err, errlen, "model=%s reads the CNN's 64 features and classifies 10 labels under 2 tasks "
                     "(d_in=64, d_out=10, teachers=2); set %s = %lld, not %lld", name, fixed[i].key,
                     (long long)fixed[i].want, (long long)fixed[i].have);
            *bad_key = fixed[i].key;
            return -1;
        }
    if (p->teacher != NTAS_TEACHER_ORTHOGONAL || p->composition != NTAS_COMPOSE_NONE ||
        p->curriculum != NTAS_CURRICULUM_ALTERNATING) {
        ntas_set_err(err, errlen, "model=%s has no teachers (its tasks are label maps) and alternates two tasks: "
                 "teacher, composition and curriculum must stay orthogonal / none / alternating", name);
        *bad_key = p->teacher != NTAS_TEACHER_ORTHOGONAL ? "teacher"
                 : p->composition != NTAS_COMPOSE_NONE ? "composition" : "curriculum";
        return -1;
    }
    /* batch <= the number of training images is checked once the data is
     * found (pretrain.c), before anything runs. */
    return 0;
}

/* reduced_init = given reads these keys; elsewhere a value other than the
 * default would be silently ignored, so it is refused (the name of the
 * first such key, or NULL). Defaults as in the table: w 0, c 1/2. */
static const char *given_start_key_set(const ntas_params *p)
{
    return p->reduced_w11 != 0.0 ? "reduced_w11" : p->reduced_w12 != 0.0 ? "reduced_w12"
         : p->reduced_w21 != 0.0 ? "reduced_w21" : p->reduced_w22 != 0.0 ? "reduced_w22"
         : p->reduced_c1 != 0.5 ? "reduced_c1" : p->reduced_c2 != 0.5 ? "reduced_c2" : NULL;
}

/* init_gates only where gates start at 1/2 otherwise (models nta,
 * nta_neuron), init_gates_sigma only with init_gates = normal: elsewhere
 * they would be silently ignored. */
static int validate_init_gates(const ntas_params *p, char *err, size_t errlen, const char **bad_key)
{
    if (p->init_gates != NTAS_INIT_GATES_HALF && p->model != NTAS_MODEL_NTA && p->model != NTAS_MODEL_NTA_NEURON) {
        ntas_set_err(err, errlen, "init_gates = %s only applies to model=nta or nta_neuron (not %s)",
                     init_gates_choices[p->init_gates], model_choices[p->model]);
        *bad_key = "init_gates";
        return -1;
    }
    if (p->init_gates_sigma != 0.1 && p->init_gates != NTAS_INIT_GATES_NORMAL) {
        ntas_set_err(err, errlen, "init_gates_sigma only applies with init_gates = normal (here %s)",
                     init_gates_choices[p->init_gates]);
        *bad_key = "init_gates_sigma";
        return -1;
    }
    return 0;
}

/* The starting-state keys: given_start only with reduced_init = given,
 * init_seed only where the initial weights are random. */
static int validate_start(const ntas_params *p, char *err, size_t errlen, const char **bad_key)
{
    const char *given = given_start_key_set(p);
    if (given && !(p->model == NTAS_MODEL_REDUCED && p->reduced_init == NTAS_REDUCED_GIVEN)) {
        ntas_set_err(err, errlen, "%s only applies to model=reduced with reduced_init = given", given);
        *bad_key = given;
        return -1;
    }
    if (validate_init_gates(p, err, errlen, bad_key) != 0) return -1;
    if (p->init_seed < 0) return 0;
    if (p->model == NTAS_MODEL_CNN_ALONE) {
        ntas_set_err(err, errlen, "model=cnn_alone starts from the CNN's pretrained head (no random init): "
                     "init_seed does not apply");
        *bad_key = "init_seed";
        return -1;
    }
    if (p->model == NTAS_MODEL_REDUCED && p->reduced_init != NTAS_REDUCED_RANDOM) {
        ntas_set_err(err, errlen, "init_seed seeds the random initial weights, but reduced_init = %s sets "
                     "them: use reduced_init = random, or drop init_seed", reduced_init_choices[p->reduced_init]);
        *bad_key = "init_seed";
        return -1;
    }
    return 0;
}

uint64_t ntas_params_init_stream(const ntas_params *p, uint64_t run_key)
{
    if (p->init_seed < 0) return ntas_stream_key(run_key, "init");
    return ntas_stream_key(ntas_stream_key((uint64_t)p->init_seed, "init_seed"), "init");
}

/* Memory of the per-record row cosines the sorted models keep until the
 * end of a run (doubles). */
#define MAX_ROW_COS 50000000.0

static int validate_variant(const ntas_params *p, char *err, size_t errlen, const char **bad_key)
{
    if (validate_cnn(p, err, errlen, bad_key) != 0) return -1;
    if (validate_start(p, err, errlen, bad_key) != 0) return -1;
    if (p->model == NTAS_MODEL_REDUCED && p->data == NTAS_DATA_WISHART) {
        /* Its batch is the fixed input x = 1, not a Gaussian draw, so there
         * is no second moment to sample: S = 1 always (data = expected). */
        ntas_set_err(err, errlen, "model=reduced has the fixed input x = 1 (S = 1, already the expected flow): "
                 "data must be sampled or expected, not wishart");
        *bad_key = "data";
        return -1;
    }
    if (p->model == NTAS_MODEL_REDUCED) {
        /* The reduced model is fixed in shape (Sec. 5): ask for it explicitly
         * rather than silently ignore other values (the run key holds them). */
        struct { const char *key; int64_t have, want; } fixed[] = {
            {"d_in", p->d_in, 1}, {"d_out", p->d_out, 2}, {"teachers", p->teachers, 2},
            {"paths", p->paths, 2}, {"batch", p->batch, 1},
        };
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            if (fixed[i].have != fixed[i].want) {
                ntas_set_err(err, errlen, "model=reduced is the 2-D model of Sec. 5 (d_in=1, d_out=2, teachers=2, "
                         "paths=2, batch=1: input x = 1); set %s = %lld, not %lld", fixed[i].key,
                         (long long)fixed[i].want, (long long)fixed[i].have);
                *bad_key = fixed[i].key;
                return -1;
            }
        if (p->teacher != NTAS_TEACHER_ORTHOGONAL || p->composition != NTAS_COMPOSE_NONE ||
            p->curriculum != NTAS_CURRICULUM_ALTERNATING) {
            ntas_set_err(err, errlen, "model=reduced has the fixed teachers e_1, e_2 on an alternating curriculum: "
                     "teacher, composition and curriculum must stay orthogonal / none / alternating");
            *bad_key = p->teacher != NTAS_TEACHER_ORTHOGONAL ? "teacher"
                     : p->composition != NTAS_COMPOSE_NONE ? "composition" : "curriculum";
            return -1;
        }
        if (p->scaling != NTAS_SCALING_FAN_IN) {
            ntas_set_err(err, errlen, "model=reduced has the fixed teachers e_1, e_2 and the summed loss "
                     "of Sec. 5: scaling must stay fan_in");
            *bad_key = "scaling";
            return -1;
        }
        return 0;
    }
    if (p->reduced_init != NTAS_REDUCED_RANDOM) {
        ntas_set_err(err, errlen, "reduced_init only applies to model=reduced");
        *bad_key = "reduced_init";
        return -1;
    }
    ntas_teacher_opts o;
    ntas_params_teacher_opts(p, &o);
    char why[400];
    int n_tasks = ntas_teachers_count(&o, why, sizeof why);
    if (n_tasks < 0) {
        ntas_set_err(err, errlen, "%s", why);
        *bad_key = p->teacher == NTAS_TEACHER_CORRELATED && !(p->rho < 1.0) ? "rho"
                 : p->teacher == NTAS_TEACHER_CORRELATED_RANDOM && !(p->rho <= 1.0) ? "rho"
                 : p->teacher == NTAS_TEACHER_LOWRANK ? "teacher_rank"
                 : p->composition != NTAS_COMPOSE_NONE && p->d_in >= p->teachers * p->d_out ? "composition"
                 : p->teacher == NTAS_TEACHER_ORTHOGONAL || p->teacher == NTAS_TEACHER_CORRELATED_RANDOM ? "d_in"
                 : "teacher";
        return -1;
    }
    if (p->curriculum != NTAS_CURRICULUM_ALTERNATING && n_tasks == p->teachers) {
        ntas_set_err(err, errlen, "curriculum=%s visits composite tasks, but there are none "
                 "(set composition = task or subtask, with teachers >= 2)",
                 p->curriculum == NTAS_CURRICULUM_COMPOSITION ? "composition" : "composites");
        *bad_key = "curriculum";
        return -1;
    }
    if (ntas_params_sorted_model(p)) {
        if (p->paths < p->teachers) {
            ntas_set_err(err, errlen, "model=%s sorts its rows into one student per teacher and stores them in the "
                     "path slots: paths = %lld must be >= teachers = %lld",
                     p->model == NTAS_MODEL_FC ? "fc" : "nta_neuron", (long long)p->paths, (long long)p->teachers);
            *bad_key = "paths";
            return -1;
        }
        double rows = (double)p->paths * (double)p->d_out, trows = (double)p->teachers * (double)p->d_out;
        if ((double)ntas_params_n_records(p) * rows * trows > MAX_ROW_COS) {
            ntas_set_err(err, errlen, "model=%s keeps the row cosines of every record until the run's end "
                     "(%g values > %g): raise record_every",
                     p->model == NTAS_MODEL_FC ? "fc" : "nta_neuron",
                     (double)ntas_params_n_records(p) * rows * trows, MAX_ROW_COS);
            *bad_key = "record_every";
            return -1;
        }
    }
    /* dt = tau_w2 is allowed: the paper's FC runs (Table 2, 3) use dt = tau_W2 = 0.01. */
    if (p->model == NTAS_MODEL_FC && p->dt > p->tau_w2 && p->dt_limit == NTAS_DT_LIMIT_TAU) {
        ntas_set_err(err, errlen, "dt = %g must not exceed tau_w2 = %g (explicit Euler is unstable otherwise; "
                 "dt_limit = none lifts this bound)",
                 p->dt, p->tau_w2);
        *bad_key = "dt";
        return -1;
    }
    return 0;
}

int ntas_params_validate(const ntas_params *p, char *err, size_t errlen, const char **bad_key)
{
    /* dt = tau is an ordinary explicit Euler step (the update replaces the
     * variable by its target, x += (dt / tau) (target - x)); the authors'
     * published runs use it (Fig. 8: dt = tau_c = 0.01; A.16: dt = tau_c =
     * 0.03). Only dt > tau overshoots, and is refused. */
    const int bounded = p->dt_limit == NTAS_DT_LIMIT_TAU;
    if (bounded && p->dt > p->tau_c && p->model != NTAS_MODEL_FC) {
        ntas_set_err(err, errlen, "dt = %g must not exceed tau_c = %g (explicit Euler overshoots otherwise; "
                 "dt_limit = none lifts this bound)", p->dt, p->tau_c);
        *bad_key = "dt";
        return -1;
    }
    if (bounded && p->dt > p->tau_w) {
        ntas_set_err(err, errlen, "dt = %g must not exceed tau_w = %g (explicit Euler overshoots otherwise; "
                 "dt_limit = none lifts this bound)", p->dt, p->tau_w);
        *bad_key = "dt";
        return -1;
    }
    if (p->model != NTAS_MODEL_REDUCED && p->teacher == NTAS_TEACHER_ORTHOGONAL &&
        p->d_in < p->teachers * p->d_out) {
        ntas_set_err(err, errlen, "orthogonal teachers need d_in >= teachers * d_out, but d_in = %lld < %lld * %lld",
                 (long long)p->d_in, (long long)p->teachers, (long long)p->d_out);
        *bad_key = "d_in";
        return -1;
    }
    if (p->block_len / p->dt < 0.5) {
        ntas_set_err(err, errlen, "block_len = %g is shorter than half a step dt = %g", p->block_len, p->dt);
        *bad_key = "block_len";
        return -1;
    }
    if (p->block_len / p->dt > (double)MAX_TOTAL_STEPS ||
        ntas_params_total_steps(p) > MAX_TOTAL_STEPS) {
        ntas_set_err(err, errlen, "block_len / dt * n_blocks exceeds %lld Euler steps", MAX_TOTAL_STEPS);
        *bad_key = "n_blocks";
        return -1;
    }
    if (ntas_params_n_records(p) > MAX_RECORDS) {
        ntas_set_err(err, errlen, "%lld records per run exceed %lld: raise record_every",
                 (long long)ntas_params_n_records(p), MAX_RECORDS);
        *bad_key = "record_every";
        return -1;
    }
    if ((double)p->paths * (double)p->d_out * (double)p->d_in > 1e8 ||
        (double)p->batch * (double)(p->d_in + p->d_out) > 1e9) {
        ntas_set_err(err, errlen, "model or batch too large for one run (paths*d_out*d_in = %g)",
                 (double)p->paths * (double)p->d_out * (double)p->d_in);
        *bad_key = "d_in";
        return -1;
    }
    return validate_variant(p, err, errlen, bad_key);
}

void ntas_run_key_cache_init(ntas_run_key_cache *c)
{
    memset(c, 0, sizeof *c);
    ntas_params_defaults(&c->defaults);
}

/* "key=value\n" for every key in table order; the seed tags the format. A
 * key's line is formatted again only when its value's bits change, and the
 * hash resumes after the last unchanged key, which makes expanding a large
 * sweep (one or two keys change per run) cheap. */
uint64_t ntas_params_run_key_cached(ntas_run_key_cache *c, const ntas_params *p)
{
    int first_changed = ntas_param_count;
    for (int i = ntas_param_count - 1; i >= 0; i--) {
        uint64_t bits;
        memcpy(&bits, (const char *)p + ntas_param_table[i].offset, sizeof bits);
        if (!c->valid[i] || c->bits[i] != bits) first_changed = i;
    }
    uint64_t h = first_changed == 0 ? ntas_hash64("ntasweep-run-key-v1", 19, 0) : c->hash_after[first_changed - 1];
    for (int i = first_changed; i < ntas_param_count; i++) {
        const ntas_param_desc *d = &ntas_param_table[i];
        uint64_t bits;
        memcpy(&bits, (const char *)p + d->offset, sizeof bits);
        if (!c->valid[i] || c->bits[i] != bits) {
            char val[128];
            ntas_param_format(d, p, val, sizeof val);
            c->len[i] = 0;
            int same_as_default = 0;
            if (d->added) {
                char def[128];
                ntas_param_format(d, &c->defaults, def, sizeof def);
                same_as_default = strcmp(val, def) == 0;
            }
            if (!same_as_default) c->len[i] = snprintf(c->line[i], sizeof c->line[i], "%s=%s\n", d->key, val);
            c->bits[i] = bits;
            c->valid[i] = 1;
        }
        if (c->len[i] > 0) h = ntas_hash64(c->line[i], (size_t)c->len[i], h);
        c->hash_after[i] = h;
    }
    return h;
}

uint64_t ntas_params_run_key(const ntas_params *p)
{
    ntas_run_key_cache c;
    ntas_run_key_cache_init(&c);
    return ntas_params_run_key_cached(&c, p);
}
