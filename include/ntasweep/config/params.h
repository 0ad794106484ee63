/* params — every model and run parameter, its default, range and meaning.
 *
 * Owns the canonical key table: one row per sweep-file key (type, default,
 * range, paper symbol, unit). The spec parser, the HDF5 store and the README
 * parameter table are all driven by this table, so a key is added in exactly
 * one place. Values are plain fields of ntas_params.
 */
#ifndef NTASWEEP_PARAMS_H
#define NTASWEEP_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "ntasweep/tasks/teachers.h"

typedef enum {
    NTAS_MODEL_NTA = 0,        /* per-path scalar gates, Eq. (1) */
    NTAS_MODEL_NTA_NEURON = 1, /* per-neuron gates c_pi (App. A.8, model_neuron.h) */
    NTAS_MODEL_FC = 2,         /* 2-layer fully connected, fast regularised W2 (Sec. 7, model_fc.h) */
    NTAS_MODEL_REDUCED = 3,    /* reduced 2-D model of Sec. 5 (model_reduced.h) */
    NTAS_MODEL_CNN_NTA = 4,    /* NTA head on pretrained CNN features (Sec. 8, cnn_head.h) */
    NTAS_MODEL_CNN_ALONE = 5,  /* the CNN's own 64 -> 10 head on the same curriculum (cnn_head.h) */
} ntas_model_kind;
typedef enum { NTAS_DATASET_NONE = 0, NTAS_DATASET_MNIST = 1, NTAS_DATASET_FASHION = 2 } ntas_dataset_kind;
/* Task 2's labels (SPEC-NOTES §8); task 1 always keeps the original ones. */
typedef enum {
    NTAS_LABELS_IDENTITY = 0, NTAS_LABELS_PARITY = 1, NTAS_LABELS_UPPER_LOWER = 2, NTAS_LABELS_WARM_COLD = 3
} ntas_label_map_kind;
/* Values equal teachers.h ntas_teacher_family. */
typedef enum {
    NTAS_TEACHER_ORTHOGONAL = 0, NTAS_TEACHER_CORRELATED = 1, NTAS_TEACHER_LOWRANK = 2,
    NTAS_TEACHER_CORRELATED_RANDOM = 3
} ntas_teacher_kind;
/* given: the start is read from the keys reduced_w11 .. reduced_c2. */
typedef enum {
    NTAS_REDUCED_RANDOM = 0, NTAS_REDUCED_SPECIALIZED = 1, NTAS_REDUCED_COLLAPSED = 2, NTAS_REDUCED_GIVEN = 3
} ntas_reduced_init_kind;
typedef enum { NTAS_NORM_L1 = 0, NTAS_NORM_L2 = 1 } ntas_norm_kind;
/* Initial gates of models nta, nta_neuron: half = every c = 1/2 (the paper,
 * the authors' published code); uniform = c ~ U(0, 1); normal = c = 1/2 +
 * init_gates_sigma N(0, 1), each gate drawn on its own (issue #18: the
 * published code keeps an unused gate key and std_c = 0 beside c = 1/2). */
typedef enum { NTAS_INIT_GATES_HALF = 0, NTAS_INIT_GATES_UNIFORM = 1, NTAS_INIT_GATES_NORMAL = 2 } ntas_init_gates_kind;
/* How a step sees its batch (train.c): sampled = B fresh Gaussian inputs;
 * wishart = only S = X^T X / B, drawn directly (wishart.h); expected = S = I,
 * the B -> infinity gradient flow. */
typedef enum { NTAS_DATA_SAMPLED = 0, NTAS_DATA_WISHART = 1, NTAS_DATA_EXPECTED = 2 } ntas_data_kind;
/* Teacher scale and task-loss normalisation (SPEC-NOTES §1, §2). */
/* unit_sum: singular values 1 with the summed loss (the authors' Fig. A.2 run). */
typedef enum { NTAS_SCALING_FAN_IN = 0, NTAS_SCALING_UNIT = 1, NTAS_SCALING_UNIT_SUM = 2 } ntas_scaling_kind;
/* tau: dt must not exceed any time constant; none: no bound (the authors'
 * coarse runs, e.g. Fig. 3 subtask composition at dt = 2 tau_c). */
typedef enum { NTAS_DT_LIMIT_TAU = 0, NTAS_DT_LIMIT_NONE = 1 } ntas_dt_limit_kind;
/* Form of the weight cost lambda_w (App. A.3; reg.h ntas_weight_cost):
 * squared = lambda_w / (2 P d_in) sum W^2; column_norm = the authors' Fig. A.3
 * code, lambda_w / (P d_in) sum_{p,j} ||W_p[:, j]||_2 (not squared). */
typedef enum { NTAS_WEIGHT_COST_SQUARED = 0, NTAS_WEIGHT_COST_COLUMN_NORM = 1 } ntas_weight_cost_kind;

/* cnn_precision: the CNN pretraining's GEMMs in double or in float32 (the
 * paper's JAX default); part of the pretraining setting (features.h). */
typedef enum { NTAS_CNN_FLOAT64 = 0, NTAS_CNN_FLOAT32 = 1 } ntas_cnn_precision_kind;

typedef struct {
    int64_t model;          /* ntas_model_kind */
    int64_t d_in, d_out;    /* input / output dimension */
    int64_t paths;          /* P: student paths (gates) */
    int64_t teachers;       /* M: number of base tasks */
    int64_t teacher;        /* ntas_teacher_kind */
    int64_t teacher_seed;   /* seed of the teacher stream, shared by all replicate seeds */
    int64_t curriculum;     /* ntas_curriculum_kind */
    int64_t batch;          /* B: fresh Gaussian inputs per Euler step */
    double  dt;             /* Euler step, time units */
    double  tau_w, tau_c;   /* time constants of weights and gates (inverse learning rates) */
    double  block_len;      /* tau_B, time units */
    int64_t n_blocks;
    int64_t norm;           /* ntas_norm_kind: k of ||c||_k in L_norm */
    double  lambda_nonneg, lambda_norm, lambda_w;
    int64_t seed;           /* replicate seed */
    int64_t record_every;   /* store metrics every this many steps */
    double  init_sigma;     /* sigma of W init: W_ij ~ N(0, sigma^2/d_in) */
    /* Keys added with the model variants (hashed only when not at their default). */
    double  rho;            /* correlated teachers: pairwise row cosine */
    int64_t teacher_rank;   /* lowrank teachers: rank r */
    int64_t composition;    /* ntas_compose_kind (teachers.h): composite tasks after the M base ones */
    double  mix;            /* task composition: weight of base task k in composite k */
    double  tau_w2;         /* fc: time constant of the second layer W2 (tau_w is W1's) */
    int64_t reduced_init;   /* ntas_reduced_init_kind */
    /* Keys added with the CNN-embedded variant (Sec. 8). */
    int64_t dataset;        /* ntas_dataset_kind */
    int64_t label_map;      /* ntas_label_map_kind of task 2 */
    int64_t cnn_steps;      /* pretraining AdamW steps */
    int64_t cnn_seed;       /* seed of the CNN's init and pretraining batches */
    int64_t data;           /* ntas_data_kind (added with `ntasweep bench`, issue #8) */
    int64_t scaling;        /* ntas_scaling_kind */
    int64_t dt_limit;       /* ntas_dt_limit_kind (added for the authors' coarse runs, issue #18) */
    int64_t weight_cost;    /* ntas_weight_cost_kind (added for the authors' Fig. A.3 cost, issue #18) */
    /* Starting states of the authors' runs (issue #18): reduced_init = given
     * reads w^p_m = reduced_w<p><m> and c_p = reduced_c<p>; init_seed >= 0
     * draws the random initial weights from a stream of its own, shared by
     * every run that sets the same init_seed (-1: the run's own stream). */
    double  reduced_w11, reduced_w12, reduced_w21, reduced_w22;
    double  reduced_c1, reduced_c2;
    int64_t init_seed;
    int64_t cnn_precision;  /* ntas_cnn_precision_kind: the pretraining's GEMMs (issue #16) */
    int64_t init_gates;     /* ntas_init_gates_kind (issue #18, Fig. 5 candidates) */
    double  init_gates_sigma; /* init_gates = normal: SD of c around 1/2 */
} ntas_params;

typedef enum { NTAS_PT_INT, NTAS_PT_REAL, NTAS_PT_CHOICE } ntas_ptype;

typedef struct {
    const char *key;
    ntas_ptype  type;
    size_t      offset;              /* into ntas_params */
    const char *default_text;
    double      min, max;            /* range (INT and REAL); max inclusive */
    int         min_open;            /* 1: value must be > min, 0: >= min */
    const char *const *choices;      /* CHOICE: NULL-terminated list */
    const char *symbol;              /* paper symbol, for the README */
    const char *unit;
    const char *meaning;
    /* 0: a key of the first release, always part of the run key. 1: added
     * later; part of the run key only when its value differs from the
     * default, so run keys of sweeps that do not use it stay what they were
     * (resume and extend keep working on files written before it existed). */
    int         added;
} ntas_param_desc;

extern const ntas_param_desc ntas_param_table[];
extern const int ntas_param_count;

/* Index of key in ntas_param_table, or -1. */
int ntas_param_find(const char *key);
/* Closest known key by edit distance (for "did you mean"), or NULL if none is close. */
const char *ntas_param_suggest(const char *key);

void ntas_params_defaults(ntas_params *p);
/* Parse text into the field of desc (type and range checked). 0, or -1 with err. */
int  ntas_param_parse(const ntas_param_desc *desc, const char *text, ntas_params *p,
                      char *err, size_t errlen);
/* Canonical text of the value (shortest round-trip text for reals): equal
 * values give equal text and distinct values distinct text. */
void ntas_param_format(const ntas_param_desc *desc, const ntas_params *p, char *buf, size_t len);
int64_t ntas_param_get_int(const ntas_param_desc *desc, const ntas_params *p);
double  ntas_param_get_real(const ntas_param_desc *desc, const ntas_params *p);
const char *ntas_param_get_choice(const ntas_param_desc *desc, const ntas_params *p);

/* Cross-field validation (dt < tau_c, d_in >= teachers*d_out, ...). On error
 * returns -1, fills err and sets *bad_key to the key to blame. */
int ntas_params_validate(const ntas_params *p, char *err, size_t errlen, const char **bad_key);

/* Key of the random stream the initial weights are drawn from: the run's
 * own ("init" under run_key), or, when init_seed >= 0, one keyed by
 * init_seed alone, so runs that differ only in seed or case start from the
 * same W (the authors' fixed PRNGKey in Figs. A.1, A.16). The other
 * streams (inputs) stay the run's own. */
uint64_t ntas_params_init_stream(const ntas_params *p, uint64_t run_key);

/* Derived sizes. */
int64_t ntas_params_steps_per_block(const ntas_params *p);
int64_t ntas_params_total_steps(const ntas_params *p);
int64_t ntas_params_n_records(const ntas_params *p);
/* Number of tasks of the run: M base teachers plus their composites
 * (teachers.h ntas_teachers_count), or -1 for an invalid combination. */
int64_t ntas_params_n_tasks(const ntas_params *p);
/* The teacher options of a run (family, rho, rank, composition, mix, seed). */
void ntas_params_teacher_opts(const ntas_params *p, ntas_teacher_opts *o);
/* 1 for the models whose units are rows sorted to teachers after training
 * (nta_neuron, fc: App. B.4.1), 0 otherwise. */
int ntas_params_sorted_model(const ntas_params *p);
/* 1 for cnn_nta and cnn_alone, which read pretrained features (pretrain.h). */
int ntas_params_cnn_model(const ntas_params *p);

/* Run key: hash of the canonical text ("key=value\n") of every parameter
 * value, in table order, except keys with desc.added set whose value is
 * their default. Identifies a run by what it computes, not by its position
 * in a sweep. */
uint64_t ntas_params_run_key(const ntas_params *p);
/* The same key, for many parameter sets in a row: each key's text is kept
 * and formatted again only when its value changes (expanding 10^6 runs). */
#define NTAS_RUN_KEY_MAX_PARAMS 64
typedef struct {
    ntas_params defaults;
    int valid[NTAS_RUN_KEY_MAX_PARAMS];
    uint64_t bits[NTAS_RUN_KEY_MAX_PARAMS];
    char line[NTAS_RUN_KEY_MAX_PARAMS][160];
    int len[NTAS_RUN_KEY_MAX_PARAMS];   /* 0: key left out (added, at its default) */
    uint64_t hash_after[NTAS_RUN_KEY_MAX_PARAMS];   /* the hash up to and including key i */
} ntas_run_key_cache;
void ntas_run_key_cache_init(ntas_run_key_cache *c);
uint64_t ntas_params_run_key_cached(ntas_run_key_cache *c, const ntas_params *p);

#endif
