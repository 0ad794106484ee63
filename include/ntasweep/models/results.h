/* results — every array one run records, written down once (NTAS_RESULTS).
 *
 * Owns the run-result struct (ntas_run_result) and the table it is generated
 * from. Each row of NTAS_RESULTS names a field, its HDF5 dataset, which runs
 * record it (a result group), its axes after the leading run axis, and its
 * description. From that one row come: the struct field, its length (the
 * product of its axes' extents for a run), the HDF5 dataset and its
 * dimensions (io/store.c), the write of a run (store.c), and whether a sweep
 * needs it (the group; train/model_registry.h decides which groups a run's
 * model records). Adding a result is one row here and the code that fills it.
 *
 * Why in the models layer: a model's own record and finish functions
 * (model.h) fill these fields, and the models layer sits below train.
 */
#ifndef NTASWEEP_RESULTS_H
#define NTASWEEP_RESULTS_H

#include <stddef.h>
#include <stdint.h>

enum { NTAS_STATUS_PENDING = 0, NTAS_STATUS_DONE = 1, NTAS_STATUS_FAILED = 2 };
#define NTAS_MESSAGE_LEN 128

/* Sizes of one run's arrays (filled from its params by ntas_result_extents,
 * train/model_registry.h). */
typedef enum {
    NTAS_EXT_RECORDS,  /* recorded steps */
    NTAS_EXT_BLOCKS,   /* curriculum blocks */
    NTAS_EXT_PATHS,    /* P */
    NTAS_EXT_TEACHERS, /* M base teachers */
    NTAS_EXT_TASKS,    /* base teachers, then composites */
    NTAS_EXT_OUT,      /* d_out */
    NTAS_EXT_IN,       /* d_in */
    NTAS_EXT_HIDDEN,   /* fc: P * d_out hidden units; 0 otherwise */
    NTAS_EXT_MODES,    /* min(d_out, d_in): singular modes of a teacher */
    NTAS_EXT_COUNT
} ntas_result_extent;

/* Dimensions of the results file. Several extents share one dimension
 * (teachers and tasks both run along "task"); its size is the largest
 * extent of any run. */
typedef enum {
    NTAS_DIM_RUN, NTAS_DIM_TIME, NTAS_DIM_BLOCK, NTAS_DIM_GATE, NTAS_DIM_TASK, NTAS_DIM_PATH,
    NTAS_DIM_OUTPUT, NTAS_DIM_INPUT, NTAS_DIM_HIDDEN, NTAS_DIM_MODE, NTAS_DIM_COUNT
} ntas_result_dim;

/* One axis of a result: its extent in the run and its file dimension. */
typedef enum {
    NTAS_AX_NONE,
    NTAS_AX_TIME,    /* records, along time */
    NTAS_AX_BLOCK,   /* blocks, along block */
    NTAS_AX_GATE,    /* paths, along gate */
    NTAS_AX_PATH,    /* paths, along path */
    NTAS_AX_TEACHER, /* base teachers, along task */
    NTAS_AX_TASK,    /* all tasks, along task */
    NTAS_AX_OUT,     /* d_out, along output */
    NTAS_AX_IN,      /* d_in, along input */
    NTAS_AX_HIDDEN,  /* hidden units, along hidden */
    NTAS_AX_MODE,    /* singular modes, along mode */
    NTAS_AX_COUNT
} ntas_result_axis;

/* Which runs record a result. */
typedef enum {
    NTAS_RG_ALL,      /* every run */
    NTAS_RG_TASKS,    /* runs with composites or a non-alternating curriculum */
    NTAS_RG_TEACHERS, /* models trained on linear teachers (not the cnn heads) */
    NTAS_RG_SORTED,   /* models whose rows are sorted to teachers (nta_neuron, fc) */
    NTAS_RG_NEURON,   /* nta_neuron */
    NTAS_RG_FC,       /* fc */
    NTAS_RG_REDUCED,  /* reduced */
    NTAS_RG_CNN,      /* cnn_nta, cnn_alone */
    NTAS_RG_COUNT
} ntas_result_group;
#define NTAS_RG_BIT(g) (1u << (g))

/* X(field, form, "dataset", group, rank, axis0, axis1, axis2, axis3, "description")
 * form: array (double *field, product of the axes' extents) or scalar
 * (double field, rank 0). Unused axes are NTAS_AX_NONE. The order is the
 * order of the datasets in the file. */
#define NTAS_RESULTS(X)                                                                                        \
    X(loss, array, "loss", NTAS_RG_ALL, 1, NTAS_AX_TIME, NTAS_AX_NONE, NTAS_AX_NONE, NTAS_AX_NONE,             \
      "task loss 1/2 mean_batch sum_i (y*_i - y_i)^2 (no regulariser)")                                        \
    X(gates, array, "gates", NTAS_RG_ALL, 2, NTAS_AX_TIME, NTAS_AX_GATE, NTAS_AX_NONE, NTAS_AX_NONE,           \
      "gates c_p before the recorded step's update (nta_neuron, fc: mean gate of sorted student p < "          \
      "teachers: its per-neuron gates, its W2 column block; App. B.4.1)")                                      \
    X(cos_sim, array, "cos_sim", NTAS_RG_ALL, 3, NTAS_AX_TIME, NTAS_AX_TEACHER, NTAS_AX_PATH, NTAS_AX_NONE,    \
      "mean row-wise cosine of base teacher m and student p (nta_neuron, fc: sorted student p < teachers; "    \
      "reduced: NaN)")                                                                                         \
    X(update_norm_w, array, "update_norm_w", NTAS_RG_ALL, 2, NTAS_AX_TIME, NTAS_AX_PATH, NTAS_AX_NONE,         \
      NTAS_AX_NONE,                                                                                            \
      "Frobenius norm of the Euler update of W_p (fc: of W1's rows p*d_out .. (p+1)*d_out-1)")                 \
    X(update_norm_c, array, "update_norm_c", NTAS_RG_ALL, 1, NTAS_AX_TIME, NTAS_AX_NONE, NTAS_AX_NONE,         \
      NTAS_AX_NONE, "norm of the Euler update of c (fc: of W2)")                                               \
    X(time_to_threshold, array, "time_to_threshold", NTAS_RG_ALL, 1, NTAS_AX_BLOCK, NTAS_AX_NONE,              \
      NTAS_AX_NONE, NTAS_AX_NONE, "time from block start until task loss < 0.1 (every step); NaN if never")    \
    X(specialization, scalar, "specialization", NTAS_RG_ALL, 0, NTAS_AX_NONE, NTAS_AX_NONE, NTAS_AX_NONE,      \
      NTAS_AX_NONE,                                                                                            \
      "final mean over paths of the best-matching teacher's cos_sim (nta_neuron, fc: final sorted "            \
      "alignment; reduced: NaN)")                                                                              \
    X(total_alignment, scalar, "total_alignment", NTAS_RG_ALL, 0, NTAS_AX_NONE, NTAS_AX_NONE, NTAS_AX_NONE,    \
      NTAS_AX_NONE,                                                                                            \
      "final row-wise cosine of stacked teachers and their best students (nta_neuron, fc: of the sorted "      \
      "students, App. B.4.1; reduced: NaN)")                                                                   \
    X(teachers, array, "teacher_weights", NTAS_RG_ALL, 3, NTAS_AX_TASK, NTAS_AX_OUT, NTAS_AX_IN, NTAS_AX_NONE, \
      "teachers W*^m: the base tasks, then their composites (composition key)")                                \
    X(students, array, "student_weights", NTAS_RG_ALL, 3, NTAS_AX_PATH, NTAS_AX_OUT, NTAS_AX_IN, NTAS_AX_NONE, \
      "final students W_p (fc: W1 as paths blocks of d_out rows; unsorted, see row_source)")                   \
    X(gates_final, array, "gates_final", NTAS_RG_ALL, 1, NTAS_AX_GATE, NTAS_AX_NONE, NTAS_AX_NONE,             \
      NTAS_AX_NONE, "final gates c_p (nta_neuron, fc: of sorted student p, as gates)")                         \
    X(block_task, array, "block_task", NTAS_RG_TASKS, 1, NTAS_AX_BLOCK, NTAS_AX_NONE, NTAS_AX_NONE,            \
      NTAS_AX_NONE,                                                                                            \
      "task of each block: index into teacher_weights' task (base tasks 0..teachers-1, then composites)")      \
    X(row_source, array, "row_source", NTAS_RG_SORTED, 2, NTAS_AX_TEACHER, NTAS_AX_OUT, NTAS_AX_NONE,          \
      NTAS_AX_NONE,                                                                                            \
      "nta_neuron, fc: row of W (p*d_out + i) or W1 (hidden unit) that is row r of sorted student m, by the "  \
      "row cosines averaged over records")                                                                     \
    X(sorted_alignment, array, "sorted_alignment", NTAS_RG_SORTED, 1, NTAS_AX_TIME, NTAS_AX_NONE,              \
      NTAS_AX_NONE, NTAS_AX_NONE,                                                                              \
      "nta_neuron, fc: mean over m, r of cosine(teacher m row r, sorted student m row r), the total "          \
      "alignment of App. B.4.1")                                                                               \
    X(neuron_gates, array, "neuron_gates", NTAS_RG_NEURON, 3, NTAS_AX_TIME, NTAS_AX_PATH, NTAS_AX_OUT,         \
      NTAS_AX_NONE, "nta_neuron: per-neuron gates c_pi (unsorted) before the recorded step's update")          \
    X(neuron_gates_final, array, "neuron_gates_final", NTAS_RG_NEURON, 2, NTAS_AX_PATH, NTAS_AX_OUT,           \
      NTAS_AX_NONE, NTAS_AX_NONE, "nta_neuron: final per-neuron gates c_pi")                                   \
    X(fc_w2, array, "fc_w2", NTAS_RG_FC, 3, NTAS_AX_TIME, NTAS_AX_OUT, NTAS_AX_HIDDEN, NTAS_AX_NONE,           \
      "fc: second layer W2 (every entry a gate) before the recorded step's update")                            \
    X(fc_w2_final, array, "fc_w2_final", NTAS_RG_FC, 2, NTAS_AX_OUT, NTAS_AX_HIDDEN, NTAS_AX_NONE,             \
      NTAS_AX_NONE, "fc: final second layer W2")                                                               \
    X(reduced_w, array, "reduced_w", NTAS_RG_REDUCED, 3, NTAS_AX_TIME, NTAS_AX_PATH, NTAS_AX_TEACHER,          \
      NTAS_AX_NONE, "reduced: w^p_m, component of student p along teacher e_m (Fig. 4B, C)")                   \
    X(reduced_eps, array, "reduced_eps", NTAS_RG_REDUCED, 2, NTAS_AX_TIME, NTAS_AX_TEACHER, NTAS_AX_NONE,      \
      NTAS_AX_NONE, "reduced: error components eps_m = (y* - y)_m")                                            \
    X(wbar_task, array, "wbar_task", NTAS_RG_REDUCED, 2, NTAS_AX_TIME, NTAS_AX_TEACHER, NTAS_AX_NONE,          \
      NTAS_AX_NONE,                                                                                            \
      "reduced: specialization for teacher m, wbar_1 = w^1_1 - w^2_1, wbar_2 = w^2_2 - w^1_2")                 \
    X(wbar, array, "wbar", NTAS_RG_REDUCED, 1, NTAS_AX_TIME, NTAS_AX_NONE, NTAS_AX_NONE, NTAS_AX_NONE,         \
      "reduced: wbar = (wbar_1 + wbar_2) / 2 (Eq. 3)")                                                         \
    X(wbarbar, array, "wbarbar", NTAS_RG_REDUCED, 1, NTAS_AX_TIME, NTAS_AX_NONE, NTAS_AX_NONE, NTAS_AX_NONE,   \
      "reduced: unspecialized component ((w^1_1 - w^1_2) + (w^2_1 - w^2_2)) / 2 (Eq. 24)")                     \
    X(cbar, array, "cbar", NTAS_RG_REDUCED, 1, NTAS_AX_TIME, NTAS_AX_NONE, NTAS_AX_NONE, NTAS_AX_NONE,         \
      "reduced: gate separation c^1 - c^2 (Eq. 4)")                                                            \
    X(eq10_wbar, array, "eq10_wbar", NTAS_RG_REDUCED, 1, NTAS_AX_TIME, NTAS_AX_NONE, NTAS_AX_NONE,             \
      NTAS_AX_NONE, "reduced: Eq. (10) sqrt(1 - 0.5 (tau_c/tau_w)(1 - cbar^2)) at the recorded cbar")          \
    X(accuracy, array, "accuracy", NTAS_RG_CNN, 1, NTAS_AX_TIME, NTAS_AX_NONE, NTAS_AX_NONE, NTAS_AX_NONE,     \
      "cnn_nta, cnn_alone: accuracy on the test images under the current block's task labels (Fig. 7C, A.15)") \
    X(weight_norm, array, "weight_norm", NTAS_RG_ALL, 2, NTAS_AX_TIME, NTAS_AX_PATH, NTAS_AX_NONE,             \
      NTAS_AX_NONE,                                                                                            \
      "Frobenius norm ||W_p|| before the recorded step's update (Fig. 2E dashed; nta_neuron: unsorted W_p; "   \
      "fc: W1's rows p*d_out .. (p+1)*d_out-1; cnn_alone: its head W as path 0, other paths NaN)")             \
    X(sv_projection, array, "sv_projection", NTAS_RG_TEACHERS, 4, NTAS_AX_TIME, NTAS_AX_PATH,                  \
      NTAS_AX_TEACHER, NTAS_AX_MODE,                                                                           \
      "u*_a^mT W_p v*_a^m before the recorded step's update: path p's weights projected on mode a of base "    \
      "teacher m's SVD, modes by decreasing singular value (Sec. 5, Fig. A.1 A3/B3); NaN for a zero "          \
      "singular value; within equal singular values a mode is one deterministic basis vector, their sum is "   \
      "basis-free (nta_neuron: unsorted W_p; fc: W1's row block p)")                                          \
    X(max_dc_dt, array, "max_dc_dt", NTAS_RG_ALL, 1, NTAS_AX_BLOCK, NTAS_AX_NONE, NTAS_AX_NONE, NTAS_AX_NONE,  \
      "largest |dc/dt| = |c after - c before| / dt over the block's Euler steps (every step, not only the "  \
      "recorded ones) and the model's gates (nta_neuron: its per-neuron gates; fc, cnn_alone: NaN); "         \
      "x tau_c it is the gate rate of App. A.2 (Fig. A.2)")

#define NTAS_RESULT_FIELD_array(name) double *name;
#define NTAS_RESULT_FIELD_scalar(name) double name;
#define NTAS_RESULT_FIELD(field, form, h5, group, rank, a0, a1, a2, a3, desc) NTAS_RESULT_FIELD_##form(field)

/* Ids of the results, in table order: NTAS_R_loss, NTAS_R_gates, ... */
#define NTAS_RESULT_ID(field, form, h5, group, rank, a0, a1, a2, a3, desc) NTAS_R_##field,
typedef enum { NTAS_RESULTS(NTAS_RESULT_ID) NTAS_R_COUNT } ntas_result_id;

typedef struct {
    /* Sizes (ntas_result_extents). */
    int64_t n_records, n_blocks;
    int model;                 /* ntas_model_kind */
    int P, M, d_out, d_in;
    int n_tasks;               /* M base teachers + composites (teachers.h) */
    int d_hid;                 /* fc: P * d_out hidden units; 0 otherwise */
    int n_modes;               /* min(d_out, d_in) */
    unsigned groups;           /* NTAS_RG_BIT of every group this run records */
    /* Every result of NTAS_RESULTS; arrays of groups the run does not record
     * are NULL. For nta_neuron and fc, "path" p < M in cos_sim, gates and
     * gates_final is the sorted student of teacher p (App. B.4.1; rows
     * sorted once per run on the row cosines averaged over records), and
     * p >= M is NaN; students stays the raw W (fc: W1 as P blocks). */
    NTAS_RESULTS(NTAS_RESULT_FIELD)
    int status;                /* NTAS_STATUS_DONE or NTAS_STATUS_FAILED */
    char message[NTAS_MESSAGE_LEN];
} ntas_run_result;

/* The table as data, for code that walks every result (allocation, store). */
typedef struct {
    const char *field;         /* struct field */
    const char *dataset;       /* HDF5 dataset name */
    int scalar;                /* 1: double field (rank 0); 0: double * array */
    int group;                 /* ntas_result_group */
    int rank;                  /* axes after the run axis */
    int axes[4];               /* ntas_result_axis */
    const char *description;
} ntas_result_desc;

extern const ntas_result_desc ntas_results[NTAS_R_COUNT];

/* Extent (ntas_result_extent) and file dimension (ntas_result_dim) of an axis. */
int ntas_result_axis_extent(int axis);
int ntas_result_axis_dim(int axis);
/* "time", "block", ... for a file dimension. */
const char *ntas_result_dim_name(int dim);

/* The run's extents as an array indexed by ntas_result_extent. */
void ntas_run_result_extents(const ntas_run_result *r, int64_t ext[NTAS_EXT_COUNT]);

/* Number of doubles of result id in run r (0 when r does not record it). */
size_t ntas_result_length(const ntas_run_result *r, int id);

/* Pointer to result id's data in r (an array's buffer, a scalar's field). */
double *ntas_result_data(ntas_run_result *r, int id);

/* Allocates every array r records (sizes and groups set), all or none;
 * ntas_run_result_init (train.h) sets those from params first. */
int  ntas_run_result_alloc(ntas_run_result *r, char *err, size_t errlen);
void ntas_run_result_free(ntas_run_result *r);

/* Every result NaN except keep_id (-1: none), so a run that stops early
 * (diverged) reads as NaN rather than as stale numbers. */
void ntas_run_result_fill_nan(ntas_run_result *r, int keep_id);

#endif
