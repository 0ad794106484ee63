"""The numbers tools/paper_check holds our results against.

Every row is one quantity the paper or the authors' own runs state, with the
place it comes from. Sources:
  paper   the NeurIPS 2024 paper (section / figure / caption),
  printed a number the authors' notebook printed in its cell output
          (repository aproca/neural_task_abstraction, lcs/figure_notebooks/),
  image   a number read off an image embedded in that notebook, by pixel
          measurement (about +-0.01-0.02 of the axis range; the tolerance
          includes that reading error).

A row is a dict:
  figure    paper figure ("Fig. 2", "Fig. A.13")
  sweep     results file RESULTS_DIR/<sweep>.h5 it is read from
  quantity  what it is, in words
  measure   how paper_check computes our value (see MEASURES in paper_check)
  ref       the authors' value, or [lo, hi] for a range they state
  tol       absolute tolerance: pass when |ours - ref| <= tol (for a range,
            lo - tol <= ours <= hi + tol)
  source    where ref comes from
  cause     (optional) why the row differs, shown by a run that changes
            exactly one thing and reproduces the authors' number (the
            command is in docs/figures.md); the row still differs, and
            tools/paper_check prints "differs (cause: ...)"
Times are in the paper's time units; blocks are counted from 0 (block b
starts at t = b * block_len), so "switch n" (after n blocks trained) is
block n.
"""

NB2 = "fig2_main.ipynb (run logged 2024-11-21)"
NB3 = "fig3_gen_taskswitch.ipynb (run logged 2025-02-18)"
NB4 = "fig4_mechanism.ipynb (run logged 2024-11-21)"
NB5 = "fig5_NTA_hpam.ipynb"
NB6 = "fig6_A5_A6_gating_FC.ipynb"
NB8 = "fig8_task_switching.ipynb (data of 2024-10-29)"


def _row(figure, sweep, quantity, measure, ref, tol, source, cause=None):
    row = dict(figure=figure, sweep=sweep, quantity=quantity, measure=measure, ref=ref, tol=tol,
               source=source)
    if cause:
        row["cause"] = cause
    return row


# Their alignment panels (lcs/plotting_utils.py, plot_similarity) draw the
# diagonal pair of path p shifted down by 0.02 * 2**p, so that the curves do
# not hide each other: a value read off a diagonal curve is the cosine minus
# 0.02 (path 0), 0.04 (path 1), 0.08 (path 2). Off-diagonal curves are not
# shifted.
DIAG_SHIFT = (0.02, 0.04, 0.08)

ROWS = []
add = ROWS.append

# ---------------------------------------------------------------- Fig. 2
F, S = "Fig. 2", "fig2"
add(_row(F, S, "initial loss (flexible)", dict(kind="series", dataset="loss", case="flexible", t=0.0),
         0.25, 0.02, NB2 + ", image fig2_main_17_0 panel A"))
add(_row(F, S, "flexible switch peak, switches 12-19 (mean)",
         dict(kind="series", dataset="loss", case="flexible", blocks=list(range(12, 20)), after=0.0),
         [0.47, 0.50], 0.04, NB2 + ", image fig2_main_17_0 panel A"))
add(_row(F, S, "flexible diagonal alignment at t = 20",
         dict(kind="alignment", case="flexible", t=20.0, pair="diag"),
         1.0, 0.03, NB2 + ", image fig2_main_17_0 panel C: the drawn curves end at 0.987 (path 0) "
         "and 0.961 (path 1), i.e. 1.007 and 1.001 once their plot's shifts DIAG_SHIFT are undone"))
add(_row(F, S, "flexible off-diagonal alignment at t = 20",
         dict(kind="alignment", case="flexible", t=20.0, pair="offdiag"),
         0.05, 0.05, NB2 + ", image fig2_main_17_0 panel C"))
add(_row(F, S, "flexible time to loss 0.1, block 1",
         dict(kind="time_to_threshold", case="flexible", blocks=[0]),
         0.95, 0.10, NB2 + ", image panel F: 0.73 tau_w, tau_w = 1.3"))
add(_row(F, S, "flexible time to loss 0.1, block 20",
         dict(kind="time_to_threshold", case="flexible", blocks=[19]),
         0.05, 0.03, NB2 + ", image panel F: 0.04 tau_w, tau_w = 1.3"))
add(_row(F, S, "forgetful time to loss 0.1, blocks 5-19 (mean)",
         dict(kind="time_to_threshold", case="forgetful", blocks=list(range(4, 19))),
         [0.56, 0.59], 0.06, NB2 + ", image panel F: 0.43-0.45 tau_w"))

# ---------------------------------------------------------------- Fig. 3
F, S = "Fig. 3", "fig3_composition"
for case in ("task_flexible", "task_forgetful"):
    add(_row(F, S, "%s: loss at the first composite switch (block 23)" % case,
             dict(kind="series", dataset="loss", case=case, blocks=[23], after=0.0),
             0.23, 0.02, NB3 + ", image fig3_gen_taskswitch_7_0 panel C (0.234)"))
for case in ("subtask_flexible", "subtask_forgetful"):
    add(_row(F, S, "%s: loss at the first composite switch (block 23)" % case,
             dict(kind="series", dataset="loss", case=case, blocks=[23], after=0.0),
             0.30, 0.02, NB3 + ", image fig3_gen_taskswitch_7_0 panel D (0.30-0.305)"))
add(_row(F, S, "task_flexible: loss 0.1 after the first composite switch",
         dict(kind="series", dataset="loss", case="task_flexible", blocks=[23], after=0.1),
         [0.0, 0.02], 0.01, NB3 + ", image panel C zoom"))
# Panels C and D have one x tick ("new tasks" at 23); their time scale is that
# of the plotted tape slices: C plots entries 7604:7937 of a 10000-entry tape
# over t = 0..30, D entries 2260:2360 of 3000, each shifted by +23 dt, so both
# span t = 22.84..23.83, drawn over pixel columns 81..272 (C) and 357..547 (D):
# 191.9 pixels per time unit; the y ticks 0.0 and 0.2 sit at pixel rows 128
# and 66. The switch is at column 112.3 (C) and 389.5 (D). The centre of the
# grey (forgetful) line then reads 0.094, 0.055, 0.032, 0.019 at +0.05, 0.1,
# 0.15, 0.2 in C and 0.123, 0.101, 0.082, 0.060, 0.043, 0.019 at +0.1, 0.15,
# 0.2, 0.25, 0.3, 0.4 in D (the 0.12 read before is D at +0.1).
add(_row(F, S, "task_forgetful: loss 0.1 after the first composite switch",
         dict(kind="series", dataset="loss", case="task_forgetful", blocks=[23], after=0.1),
         0.055, 0.03, NB3 + ", image fig3_gen_taskswitch_7_0 panel C, grey line at +0.1"))
add(_row(F, S, "subtask_forgetful: loss 0.25 after the first composite switch",
         dict(kind="series", dataset="loss", case="subtask_forgetful", blocks=[23], after=0.25),
         0.060, 0.04, NB3 + ", image fig3_gen_taskswitch_7_0 panel D, grey line at +0.25"))

# ---------------------------------------------------------------- Fig. A.12
F, S = "Fig. A.12", "figA12_composition"
NBA12 = "figA12_comp_generalization.ipynb (output of 2024-09-18)"
for case in ("task_flexible", "subtask_flexible"):
    add(_row(F, S, "%s: initial loss" % case, dict(kind="series", dataset="loss", case=case, t=0.0),
             0.5, 0.03, NBA12 + ", image figA12_comp_generalization_9_0"))
add(_row(F, S, "task_flexible: composite-phase switch peak, blocks 24-29 (mean)",
         dict(kind="series", dataset="loss", case="task_flexible", blocks=list(range(24, 30)), after=0.0),
         0.25, 0.03, NBA12 + ", image; 1/2 * 1/2 * 2 = 0.25 composite to composite"))
add(_row(F, S, "task_forgetful: base-phase switch peak, blocks 1-22 (mean)",
         dict(kind="series", dataset="loss", case="task_forgetful", blocks=list(range(1, 23)), after=0.0),
         1.0, 0.05, NBA12 + ", image"))
add(_row(F, S, "task_flexible: final diagonal alignment",
         dict(kind="alignment", case="task_flexible", t="end", pair="diag"),
         [0.9, 1.0], 0.0, NBA12 + ", image panel G"))

# ---------------------------------------------------------------- Fig. 4
F, S = "Fig. 4", "fig4_reduced"
for case, tc, w in (("switch_tau_c_0.1", 0.1, 0.975), ("switch_tau_c_0.18", 0.178, 0.955),
                    ("switch_tau_c_0.32", 0.316, 0.918), ("switch_tau_c_0.56", 0.562, 0.848),
                    ("switch_tau_c_1", 1.0, 0.707)):
    add(_row(F, S, "w-bar where c-bar crosses 0, tau_c = %g" % tc,
             dict(kind="wbar_at_cbar0", case=case),
             w, 0.01, NB4 + ", image fig4_mechanism_32_0 (= Eq. 10, paper Sec. 5)"))
add(_row(F, S, "forgetful (collapsed start): final w_2 of both students (min)",
         dict(kind="reduced_final_w2", case="forgetful"),
         [0.8, 1.2], 0.0, NB4 + ", panel B of the notebook: both students end near e2"))

# ---------------------------------------------------------------- Fig. 5
TAU_C_GRID = [[0.99975, 0.99438, 0.99276, 0.91705, 0.91932],
              [0.99866, 0.99676, 0.98702, 0.91872, 0.74262],
              [0.99880, 0.98455, 0.91972, 0.62473, 0.64231],
              [0.99390, 0.59505, 0.63972, 0.66428, 0.68363],
              [0.69540, 0.70236, 0.70554, 0.70607, 0.70602]]
REG_GRID = [[0.54632, 0.41561, 0.99995, 0.99996, 0.99994],
            [0.50025, 0.69779, 0.99998, 0.99995, 0.99993],
            [0.50378, 0.99998, 0.99998, 0.99996, 0.99993],
            [0.56914, 0.90791, 0.99662, 0.99511, 0.98764],
            [0.66198, 0.68553, 0.62254, 0.63745, 0.64213]]
ROWS_TB = (10, 8, 6, 4, 1)  # tau_B / tau_w of the grids' rows


def _grid_tol(v):
    """Clear-cut cells (far from the 0.85 midpoint) +-0.05, the others +-0.15."""
    return 0.05 if abs(v - 0.85) > 0.1 else 0.15


# Fig. 5's cause (docs/figures.md, "Fig. 5 against the authors' numbers").
# Every row is read as their value was taken: at t = 7, their last tape
# entry, with their paths sorted by the time-averaged cos_sim and compared
# one to one (ntatools.GRID_FIGURES, sorted_alignment_at). What is left
# comes from their start and their seeds: their published code keeps an
# unused gate key (init_keys_layers_c) and std_c = 0.0 beside its c = 1/2
# (simulate_ in lcs/joint_learning.py), a trace of a random gate start. The
# sweeps with init_gates = normal, init_gates_sigma = 0.2 (nothing else
# changed; the start that also reproduces all of Fig. 8) and 40 seeds:
#   tools/fig5_candidates -o DIR -n 40 gates_normal0.2
#   tools/fig5_score.py DIR/gates_normal0.2_tauc.h5 DIR/gates_normal0.2_reg.h5 --at 7 --cells
# give per cell the seed mean and the standard deviation of one seed's value
# below. Where a seed's paths may end up sorted either way the value is
# bimodal (near 1 or near 0.5 and below), and a mean of 10 seeds, as theirs,
# spreads by sd / sqrt(10) = 0.04-0.15: a row carries the cause where the
# 40-seed mean lies within the row's tolerance or within two such standard
# errors of their value.
F5_GATES_40 = {  # (grid, row index, column index): (seed mean, one seed's sd)
    ("tau_c", 0, 0): (1.000, 0.001), ("tau_c", 0, 1): (0.997, 0.003), ("tau_c", 0, 2): (0.929, 0.204),
    ("tau_c", 0, 3): (0.904, 0.233), ("tau_c", 0, 4): (0.878, 0.217),
    ("tau_c", 1, 0): (1.000, 0.001), ("tau_c", 1, 1): (0.972, 0.135), ("tau_c", 1, 2): (0.953, 0.138),
    ("tau_c", 1, 3): (0.834, 0.269), ("tau_c", 1, 4): (0.706, 0.292),
    ("tau_c", 2, 0): (0.997, 0.005), ("tau_c", 2, 1): (0.901, 0.240), ("tau_c", 2, 2): (0.796, 0.301),
    ("tau_c", 2, 3): (0.570, 0.336), ("tau_c", 2, 4): (0.561, 0.298),
    ("tau_c", 3, 0): (0.938, 0.199), ("tau_c", 3, 1): (0.775, 0.285), ("tau_c", 3, 2): (0.536, 0.298),
    ("tau_c", 3, 3): (0.698, 0.229), ("tau_c", 3, 4): (0.670, 0.171),
    ("tau_c", 4, 0): (0.672, 0.111), ("tau_c", 4, 1): (0.681, 0.070), ("tau_c", 4, 2): (0.702, 0.044),
    ("tau_c", 4, 3): (0.702, 0.039), ("tau_c", 4, 4): (0.695, 0.048),
    ("lam", 0, 0): (0.500, 0.002), ("lam", 0, 1): (0.471, 0.488), ("lam", 0, 2): (1.000, 0.000),
    ("lam", 0, 3): (1.000, 0.000), ("lam", 0, 4): (1.000, 0.000),
    ("lam", 1, 0): (0.499, 0.003), ("lam", 1, 1): (0.718, 0.440), ("lam", 1, 2): (1.000, 0.000),
    ("lam", 1, 3): (1.000, 0.000), ("lam", 1, 4): (1.000, 0.000),
    ("lam", 2, 0): (0.503, 0.004), ("lam", 2, 1): (1.000, 0.000), ("lam", 2, 2): (1.000, 0.000),
    ("lam", 2, 3): (1.000, 0.000), ("lam", 2, 4): (1.000, 0.000),
    ("lam", 3, 0): (0.545, 0.143), ("lam", 3, 1): (0.999, 0.003), ("lam", 3, 2): (0.996, 0.009),
    ("lam", 3, 3): (0.998, 0.004), ("lam", 3, 4): (0.998, 0.004),
    ("lam", 4, 0): (0.623, 0.174), ("lam", 4, 1): (0.533, 0.368), ("lam", 4, 2): (0.561, 0.366),
    ("lam", 4, 3): (0.635, 0.351), ("lam", 4, 4): (0.666, 0.329),
}


def _f5_cause(grid, i, j, theirs, tol):
    """The cause text of a Fig. 5 cell, or None where the 40-seed runs do not
    show it (outside the tolerance and beyond two standard errors)."""
    mean, sd = F5_GATES_40[(grid, i, j)]
    se10 = sd / 10 ** 0.5
    z = abs(mean - theirs) / se10 if se10 > 0 else float("inf")
    if abs(mean - theirs) > tol and z > 2.0:
        return None
    return ("their gates started random, not at 1/2 (their published code keeps an unused gate key and "
            "std_c = 0.0 beside c = 1/2), and a mean of 10 seeds spreads: the sweep with init_gates = normal, "
            "init_gates_sigma = 0.2 (the start that also reproduces all 16 rows of Fig. 8) and 40 seeds "
            "(tools/fig5_candidates -n 40 gates_normal0.2; tools/fig5_score.py --at 7) gives %.3f; one seed's "
            "value spreads by %.2f, so a mean of 10 by %.2f: theirs lies %.1f of those away" % (mean, sd, se10, z))


for i, rb in enumerate(ROWS_TB):
    for j, (col, tau_c) in enumerate(zip((5, 2.5, 0.02 / 0.06 * 5, 1.25, 1), (0.02, 0.04, 0.06, 0.08, 0.1))):
        v = TAU_C_GRID[i][j]
        add(_row("Fig. 5 (left)", "fig5_tauc",
                 "total alignment, tau_B/tau_w = %g, tau_w/tau_c = %.3g" % (rb, col),
                 dict(kind="grid", row=rb, col=col), v, _grid_tol(v),
                 NB5 + ", printed tau_c grid [%d][%d]" % (i, j),
                 cause=_f5_cause("tau_c", i, j, v, _grid_tol(v))))
for i, rb in enumerate(ROWS_TB):
    for j, s in enumerate((0, 0.05, 0.1, 0.15, 0.2)):
        v = REG_GRID[i][j]
        add(_row("Fig. 5 (right)", "fig5_reg",
                 "total alignment, tau_B/tau_w = %g, lambda = %g" % (rb, s),
                 dict(kind="grid", row=rb, col=s), v, _grid_tol(v),
                 NB5 + ", printed regularisation grid [%d][%d]" % (i, j),
                 cause=_f5_cause("lam", i, j, v, _grid_tol(v))))

# ---------------------------------------------------------------- Fig. 6
F, S = "Fig. 6", "fig6_fc"
add(_row(F, S, "flexible final total alignment", dict(kind="final", dataset="total_alignment", case="flexible"),
         0.837, 0.05, NB6 + ", image fig6_A5_A6_gating_FC panel B (flexible data of 2024-10-08), "
         "the line's centre at t = 30 read by pixel (docs/figures.md, Fig. 6)",
         cause="the draw of the seeds: one seed's value spreads by 0.052 (sd), a mean of 10 by 0.016; "
         "the flexible case with replicates = 40 (seeds 0-9 the sweep's, bit for bit) gives 0.888, "
         "0.856, 0.850, 0.849 for seeds 0-9, 10-19, 20-29, 30-39 and 0.861 for all 40: the last three "
         "are within the tolerance (docs/figures.md, Fig. 6)"))

# ---------------------------------------------------------------- Fig. 7
F, S = "Fig. 7", "fig7"
add(_row(F, S, "pretrained CNN test accuracy", dict(kind="pretrained_accuracy"),
         0.90, 0.05, "paper Sec. 8: 'about 90% accuracy on the test set'",
         cause="the length of the pretraining: the sweep runs the 3000 AdamW steps of the authors' "
         "published script (lcs_mnist/mnist_hidden_generator_clean.py); the same sweep with "
         "cnn_steps = 100 gives 0.920, within the tolerance. Which pretraining the paper's text "
         "describes is not logged (docs/figures.md, Pretrained CNN)"))
add(_row(F, S, "flexible accuracy 0.1 after switches 5-9 (mean)",
         dict(kind="series", dataset="accuracy", case="flexible", blocks=list(range(5, 10)), after=0.1),
         [0.85, 1.0], 0.0, "paper Fig. 7C: the flexible head recovers its accuracy quickly"))
add(_row(F, S, "forgetful accuracy 0.1 after switches 5-9 (mean)",
         dict(kind="series", dataset="accuracy", case="forgetful", blocks=list(range(5, 10)), after=0.1),
         [0.0, 0.5], 0.0, "paper Fig. 7C: the forgetful head relearns every block"))

# ---------------------------------------------------------------- Fig. 8
F, S = "Fig. 8", "fig8"
FLEX8 = {1: (0.250, 0.140), 2: (0.142, 0.066), 3: (0.145, 0.024), 4: (0.114, 0.006)}
FORG8_STEP5 = {1: 0.049, 2: 0.076, 3: 0.100, 4: 0.122}
# The one row that differs: the random gate start of Fig. 5's cause
# (docs/figures.md, Fig. 8 (i)): a copy of sweeps/fig8.ini with
# init_gates = normal, init_gates_sigma = 0.2 passes all 16 rows.
FIG8_GATES = ("their initial gates were random, not 1/2, as for Fig. 5's slow-gate cells: the same sweep "
              "with init_gates = normal, init_gates_sigma = 0.2 gives 0.0385 here and passes all 16 rows "
              "(U(0, 1) gates: 0.0439, all 16 pass; sigma = 0.1: 0.0254)")
for n, (s1, s5) in FLEX8.items():
    for k, v in ((1, s1), (5, s5)):
        add(_row(F, S, "flexible loss %d step%s after switch %d" % (k, "s" if k > 1 else "", n),
                 dict(kind="series", dataset="loss", case="flexible", blocks=[n], steps=k),
                 v, 0.03, NB8 + ", image fig8_task_switching_4_0",
                 cause=FIG8_GATES if (n, k) == (2, 5) else None))
for n in FLEX8:
    add(_row(F, S, "forgetful loss 1 step after switch %d" % n,
             dict(kind="series", dataset="loss", case="forgetful", blocks=[n], steps=1),
             [0.23, 0.255], 0.04, NB8 + ", image fig8_task_switching_4_0"))
for n, v in FORG8_STEP5.items():
    add(_row(F, S, "forgetful loss 5 steps after switch %d" % n,
             dict(kind="series", dataset="loss", case="forgetful", blocks=[n], steps=5),
             v, 0.025, NB8 + ", image fig8_task_switching_4_0 (rises with n)"))

# ---------------------------------------------------------------- Fig. A.1
F, S = "Fig. A.1", "figA1_full_vs_reduced"
NBA1 = "figA1_full_vs_toy.ipynb (run logged 2024-10-31)"
add(_row(F, S, "full model: initial loss", dict(kind="series", dataset="loss", case="full", t=0.0),
         0.25, 0.01, NBA1 + ", image figA1_full_vs_toy_6_0 panel A1",
         cause="one batch of 200 inputs, one seed: the same start with the data of seeds 0-9 gives "
         "0.235-0.270, mean 0.2545, sd 0.011 (seed 0, the sweep's, is the largest); 6 of the 10 "
         "are within 0.25 +- 0.01 (docs/figures.md, Fig. A.1)"))
add(_row(F, S, "full model: switch peak, switches 15-19 (mean)",
         dict(kind="series", dataset="loss", case="full", blocks=list(range(15, 20)), after=0.0),
         0.5, 0.03, NBA1 + ", image panel A1"))
add(_row(F, S, "full model: sqrt(d_in) * singular-value projection at t = 20 (mean of both)",
         dict(kind="sv_projection", case="full", t=20.0),
         0.97, 0.03, NBA1 + ", image panel A3"))

# ---------------------------------------------------------------- Fig. A.2
F, S = "Fig. A.2", "figA2_rank"
NBA2 = "figA2_dimensionality.ipynb (run logged 2024-10-25)"
# The gate rate is read from max_dc_dt, the run loop's largest |dc/dt| over
# every Euler step of a block: their cfg_full_ tapes every step (T_tape =
# -1), and the sweep's records, every 9th step, caught only 0.31-0.76 of the
# maximum (docs/figures.md, Fig. A.2). Both sides are one seed; the same
# sweep with seeds 0-5 (replicates = 6) shows how far one draw decides.
A2_SEEDS = "the same sweep with seeds 0-5 (replicates = 6) gives "
A2_RATE_CAUSE = {8: "one seed: at rank 8 whether the two paths have split the teachers by t = 100 depends "
                    "on the draw; " + A2_SEEDS + "14.21, 9.02, 8.87, 15.84, 10.81, 11.26, and the two seeds "
                    "that specialised (final gates 1, 0) give 9.02 and 8.87, within the tolerance"}
A2_SVSUM_CAUSE = {15: "one seed: " + A2_SEEDS + "17.5, 31.9, 31.5, 20.5, 28.9, 26.0 (seed 4's 28.85 is "
                      "within the tolerance, its gate rate 28.6 is not: no one seed gives both their numbers)",
                  14: "one seed: the sweep with seeds 0-23 (replicates = 24, teacher_rank = 14) gives 13.7-28.9, "
                      "mean 21.9; seeds 10 and 18 give 28.34 and 28.94, within the tolerance (their gate rates, "
                      "28.0 and 29.5, are not: no one seed gives both their numbers; docs/figures.md, Fig. A.2)"}
for r, y, x in ((2, 2.28, 2.0), (5, 5.39, 5.3), (8, 9.42, 9.2), (11, 13.11, 13.8),
                (14, 23.38, 27.7), (15, 24.56, 29.4)):
    add(_row(F, S, "gate rate tau_c*max|dc/dt|, rank %d" % r,
             dict(kind="gate_rate", where=dict(teacher_rank=r), until=100.0),
             y, round(0.1 * y, 2), NBA2 + ", printed per-block max |dc/dt| x tau_c = 0.1 (each block's entry "
             "is the whole gate series, so it is the maximum over t <= t_tot = 100)",
             cause=A2_RATE_CAUSE.get(r)))
    add(_row(F, S, "sum of squared singular values of path 0, rank %d" % r,
             dict(kind="svsum", where=dict(teacher_rank=r)),
             x, 2.0 if r >= 14 else round(0.15 * x, 2), NBA2 + ", image figA2_dimensionality_6_0",
             cause=A2_SVSUM_CAUSE.get(r)))

# ---------------------------------------------------------------- Fig. A.3
F, S = "Fig. A.3", "figA3_redundant"
NBA3 = "figA3_representational_cost.ipynb (run logged 2024-10-30)"
# Counted over the last 4 blocks, not at the end: there the alternating
# partner of the active gate is ~0 too (its task is off), and would count.
add(_row(F, S, "weight cost: gates below 0.1 throughout the last 4 blocks (count of 4)",
         dict(kind="gates_below", case="weight_cost", threshold=0.1, last_blocks=4),
         2, 0, NBA3 + ", image figA3_representational_cost_9_0: 2 gates alternate, 2 decay to 0"))
add(_row(F, S, "no weight cost: gates below 0.1 throughout the last 4 blocks (count of 4)",
         dict(kind="gates_below", case="no_weight_cost", threshold=0.1, last_blocks=4),
         [0, 1], 0, NBA3 + ", image figA3_representational_cost_9_0: without the cost the extra "
         "gates do not all decay"))

# ---------------------------------------------------------------- Fig. A.7
NBA7 = "figA7_FC_hpam.ipynb (run logged 2024-10-08), image figA7_FC_hpam_9_0"
# Cell values read off their heatmap by inverting its colour map (cell 9:
# imshow with matplotlib's 'Oranges', vmin 0.7, vmax 1; the mean colour of
# an 11 x 11 pixel patch at each cell centre lies within 1 RGB unit of the
# map, i.e. +-0.002). Cells at or below 0.7 are drawn white (clipped): those
# rows are upper bounds. Rows tau_B/tau_W1 = 20, 15; left columns
# tau_W1/tau_W2 = 2.67, 3.2, 4: 0.793, 0.883, 0.909 and 0.835, 0.880, 0.918;
# right columns lambda = 0.2, 0.25, 0.3: 0.837, 0.909, 0.883 and 0.889,
# 0.918, 0.886; lambda = 0.35 at tau_B/tau_W1 = 5: 0.876.
A7_LEFT = {(20, 4): 0.909, (20, 3.2): 0.883, (20, 2.67): 0.793,
           (15, 4): 0.918, (15, 3.2): 0.880, (15, 2.67): 0.835}
A7_RIGHT = {(20, 0.2): 0.837, (20, 0.25): 0.909, (20, 0.3): 0.883,
            (15, 0.2): 0.889, (15, 0.25): 0.918, (15, 0.3): 0.886}
A7_SRC = NBA7 + ", colour of the cell (Oranges, 0.7-1)"
# One cell differs by the draw of the seeds: its one-seed spread is 0.051
# (0.016 for a mean of 10). The same cell run with 40 seeds (replicates = 40;
# seeds 0-9 are the sweep's, bit for bit) gives 0.846, 0.807, 0.850, 0.817
# for seeds 0-9, 10-19, 20-29, 30-39 and 0.830 for all 40 (docs/figures.md,
# Fig. A.7).
A7_CAUSE = {(20, 2.67): "the draw of the 10 seeds (one-seed sd 0.051): seeds 10-19 of the same cell give "
            "0.807, seeds 30-39 0.817, all 40 seeds 0.830, each within 0.05 of theirs"}
for rb in (20, 15, 10, 5, 2.5):
    add(_row("Fig. A.7 (left)", "figA7_fc_tauw2", "total alignment, tau_B/tau_W1 = %g, tau_W1/tau_W2 = 2" % rb,
             dict(kind="grid", row=rb, col=2), [0.0, 0.72], 0.0, NBA7 + " (white: <= 0.7)"))
for col in (5.33, 4, 3.2, 2.67):
    add(_row("Fig. A.7 (left)", "figA7_fc_tauw2", "total alignment, tau_B/tau_W1 = 2.5, tau_W1/tau_W2 = %g" % col,
             dict(kind="grid", row=2.5, col=col), [0.0, 0.72], 0.0, NBA7 + " (white: <= 0.7)"))
for rb in (20, 15):
    for col in (4, 3.2, 2.67):
        add(_row("Fig. A.7 (left)", "figA7_fc_tauw2",
                 "total alignment, tau_B/tau_W1 = %g, tau_W1/tau_W2 = %g" % (rb, col),
                 dict(kind="grid", row=rb, col=col), A7_LEFT[(rb, col)], 0.05, A7_SRC,
                 cause=A7_CAUSE.get((rb, col))))
for rb in (20, 15, 10, 5, 2.5):
    add(_row("Fig. A.7 (right)", "figA7_fc_reg", "total alignment, tau_B/tau_W1 = %g, lambda = 0" % rb,
             dict(kind="grid", row=rb, col=0), [0.0, 0.72], 0.0, NBA7 + " (white: <= 0.7)"))
add(_row("Fig. A.7 (right)", "figA7_fc_reg", "total alignment, tau_B/tau_W1 = 5, lambda = 0.35",
         dict(kind="grid", row=5, col=0.35), 0.876, 0.05, A7_SRC))
for rb in (20, 15):
    for s in (0.2, 0.25, 0.3):
        add(_row("Fig. A.7 (right)", "figA7_fc_reg", "total alignment, tau_B/tau_W1 = %g, lambda = %g" % (rb, s),
                 dict(kind="grid", row=rb, col=s), A7_RIGHT[(rb, s)], 0.05, A7_SRC))

# ---------------------------------------------------------------- Figs. A.10-A.11
F, S = "Figs. A.10-A.11", "figA10_A11_specialization"
NBA10 = "figA10_A11_specialization_space.ipynb (run logged 2024-10-30), printed values at the end"
A10 = {0.1: (0.880, 1.0035, 0.994, 0.097), 0.178: (0.816, 1.0105, 0.985, 0.171),
       0.316: (0.701, 1.0309, 0.959, 0.300), 0.562: (0.488, 1.0833, 0.886, 0.509),
       1.0: (0.099, 1.1788, 0.710, 0.770)}
# Their target is not a hard switch: their curriculum (lcs/curricula.py,
# g = 100) keeps the other teacher partly on near a block's edges (weight
# 0.03 at t = 4.9975, where their values were printed). The reduced model
# with that target and nothing else changed (tools/figA10_smooth_switch.py,
# which also reproduces the sweep's hard-switch values) gives 0.8793,
# 0.8155, 0.7006, 0.4878, 0.0989 against their 0.8799, 0.8159, 0.7009,
# 0.4879, 0.0989.
A10_CAUSE = ("their target is their smooth curriculum (lcs/curricula.py, g = 100: the other teacher "
             "still weighs 0.03 at t = 4.9975), not a hard switch; the same run with that target "
             "(tools/figA10_smooth_switch.py) gives %.4f")
A10_SMOOTH = {0.1: 0.8793, 0.178: 0.8155, 0.316: 0.7006, 0.562: 0.4878, 1.0: 0.0989}
for tc, (cb, cbb, wb, wbb) in A10.items():
    where = dict(tau_c=tc)
    add(_row(F, S, "|c-bar| 5 after the switch, tau_c = %g" % tc,
             dict(kind="series", dataset="cbar", where=where, t="end", absolute=True), cb, 0.02 if tc >= 0.5 else 0.01, NBA10,
             cause=A10_CAUSE % A10_SMOOTH[tc] if tc < 0.5 else None))
    add(_row(F, S, "c1 + c2 5 after the switch, tau_c = %g" % tc,
             dict(kind="gate_sum", where=where, t="end"), cbb, 0.01, NBA10))
    add(_row(F, S, "w-bar 5 after the switch, tau_c = %g" % tc,
             dict(kind="series", dataset="wbar", where=where, t="end"), wb, 0.01, NBA10))
    add(_row(F, S, "|w-barbar| 5 after the switch, tau_c = %g" % tc,
             dict(kind="series", dataset="wbarbar", where=where, t="end", absolute=True), wbb, 0.01, NBA10))

# ---------------------------------------------------------------- Fig. A.13
F, S = "Fig. A.13", "figA13_rho"
NBA13 = "figA13_orthogonality.ipynb (run logged 2024-08-07), image figA13_orthogonality_5_0"
for rho, v in ((0, 1.04), (0.25, 0.70), (0.5, 0.58), (0.75, 0.26), (1.0, 0.01)):
    add(_row(F, S, "specialization (max smoothed gap, last 1/8), rho = %g" % rho,
             dict(kind="specialization_gap", where=dict(rho=rho)), v, 0.1, NBA13))
add(_row(F, S, "adaptation speed ratio rho = 0 : rho = 0.5",
         dict(kind="adaptation_ratio", num=dict(rho=0), den=dict(rho=0.5)), 2.9, 0.8,
         NBA13 + " (27.4 / 9.5)"))

# ---------------------------------------------------------------- Fig. A.14
F, S = "Fig. A.14", "figA14_nonorthogonal"
NBA14 = "figA14_nonorthog_comp.ipynb (run logged 2024-09-19), image figA14_nonorthog_comp_6_0"
add(_row(F, S, "initial loss", dict(kind="series", dataset="loss", case="", t=0.0), [0.25, 0.27], 0.02, NBA14))
add(_row(F, S, "switch peak, switches 40-49 (mean)",
         dict(kind="series", dataset="loss", case="", blocks=list(range(40, 50)), after=0.0),
         [0.22, 0.25], 0.02, NBA14))
add(_row(F, S, "final diagonal alignment", dict(kind="alignment", case="", t="end", pair="diag"),
         0.93, 0.05, NBA14 + " panel D: the drawn curves end at 0.91, 0.89, 0.855 (paths 0, 1, 2), "
         "0.93, 0.93, 0.935 once their plot's shifts DIAG_SHIFT are undone"))

# ---------------------------------------------------------------- Fig. A.16
F, S = "Fig. A.16", "figA16_few_shot"
NBA16 = "figA16_few_shot.ipynb (run logged 2024-11-21), image figA16_few_shot_7_0"
add(_row(F, S, "flexible initial loss", dict(kind="series", dataset="loss", case="flexible", t=0.0),
         0.25, 0.03, NBA16))
add(_row(F, S, "flexible switch peak, switches 10-19 (mean)",
         dict(kind="series", dataset="loss", case="flexible", blocks=list(range(10, 20)), after=0.0),
         [0.45, 0.50], 0.03, NBA16))
add(_row(F, S, "flexible loss 5 steps after switches 10-19 (mean)",
         dict(kind="series", dataset="loss", case="flexible", blocks=list(range(10, 20)), steps=5),
         [0.0, 0.1], 0.0, NBA16))
