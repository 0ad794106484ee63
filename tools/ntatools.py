"""Shared helpers for the ntasweep Python tools.

Only the standard library is imported at module level, so that a script can
import this module and call ensure_interpreter() before anything else even
when the running interpreter lacks h5py/numpy (the `python3` on PATH may be a
separate build without Debian's modules). numpy is imported inside the
functions that need it.
"""
import os
import shutil
import subprocess
import sys

# Debian package providing each module; tools/install-deps installs them.
DEBIAN_PACKAGES = {
    "h5py": "python3-h5py",
    "numpy": "python3-numpy",
    "matplotlib": "python3-matplotlib",
    "xarray": "python3-xarray",
    "pandas": "python3-pandas",
    "h5netcdf": "python3-h5netcdf",
}

_REEXEC_ENV = "NTATOOLS_REEXEC"  # interpreter we re-exec'd into, to never loop

# Run by each candidate interpreter: print the modules it cannot import.
_PROBE = """import sys
missing = []
for m in sys.argv[1:]:
    try:
        __import__(m)
    except Exception:
        missing.append(m)
print(" ".join(missing))"""


def _missing_here(modules):
    missing = []
    for name in modules:
        try:
            __import__(name)
        except Exception:  # a broken install (e.g. ABI mismatch) counts as missing
            missing.append(name)
    return missing


def _candidates():
    seen = {os.path.realpath(sys.executable)}
    for cand in ("/usr/bin/python3", shutil.which("python3"), shutil.which("python3.11"),
                 "/usr/bin/python3.11"):
        if cand and os.access(cand, os.X_OK) and os.path.realpath(cand) not in seen:
            seen.add(os.path.realpath(cand))
            yield cand


def _missing_in(cand, modules):
    try:
        r = subprocess.run([cand, "-c", _PROBE] + list(modules), capture_output=True,
                           text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return list(modules)
    return r.stdout.split() if r.returncode == 0 else list(modules)


def ensure_interpreter(modules=("h5py", "numpy")):
    """Return if `modules` import here; else re-exec this script (same argv)
    under an interpreter where they do; else say what to install and exit 2."""
    me = os.path.realpath(sys.executable)
    missing = _missing_here(modules)
    if not missing:
        os.environ.pop(_REEXEC_ENV, None)  # so our own child processes may re-exec
        return
    tried = {sys.executable: missing}
    if os.environ.get(_REEXEC_ENV) != me:  # not already the interpreter we chose
        for cand in _candidates():
            tried[cand] = _missing_in(cand, modules)
            if not tried[cand]:
                os.environ[_REEXEC_ENV] = os.path.realpath(cand)
                sys.stdout.flush()
                sys.stderr.flush()
                os.execv(cand, [cand] + sys.argv)
    # Debian's packages go to /usr/bin/python3, so name what that one lacks.
    need = tried.get("/usr/bin/python3", missing)
    sys.stderr.write(
        "%s: no Python interpreter can import all of %s.\n%s"
        "Install the Debian packages: %s (tools/install-deps installs them).\n"
        % (os.path.basename(sys.argv[0]), ", ".join(modules),
           "".join("  %s lacks %s\n" % (c, ", ".join(m)) for c, m in tried.items()),
           " ".join(DEBIAN_PACKAGES.get(m, m) for m in need)))
    sys.exit(2)


def die(msg, code=2):
    sys.stderr.write("%s: error: %s\n" % (os.path.basename(sys.argv[0]), msg))
    sys.exit(code)


def open_results(path, required=()):
    """Open an ntasweep HDF5 file read-only; exit 2 with a clear message if the
    file is missing, unreadable, or lacks any of the `required` datasets."""
    import h5py
    if not os.path.exists(path):
        die("%s: no such file" % path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        die("%s: cannot open as HDF5 (%s)" % (path, e))
    absent = [name for name in required if not isinstance(f.get(name), h5py.Dataset)]
    if absent:
        die("%s: missing dataset(s): %s" % (path, ", ".join(absent)))
    return f


def decode(values):
    """Fixed-length byte strings (numpy 'S', NUL-padded) or str -> str / list of str."""
    import numpy as np
    if isinstance(values, (bytes, np.bytes_)):
        return bytes(values).rstrip(b"\0").decode("utf-8", "replace")
    if isinstance(values, str):
        return values
    return [decode(v) for v in np.asarray(values).ravel()]


def attr_str(obj, name, default=None):
    """A string attribute, whether stored fixed-length (bytes) or variable (str)."""
    if name not in obj.attrs:
        return default
    return decode(obj.attrs[name])


# The two cases of the paper come first, in this order; others follow by name.
PAPER_CASES = ("flexible", "forgetful")


def group_by_case(f):
    """{case name: indices of done runs (status == 1)} plus {case: number of
    runs}, in plotting order. Runs with an empty case name form the case ""."""
    import numpy as np
    cases = decode(f["case"][()])
    status = np.asarray(f["status"][()])
    names = sorted(set(cases), key=lambda c: (PAPER_CASES.index(c) if c in PAPER_CASES
                                              else len(PAPER_CASES), c))
    done = {c: [i for i, ci in enumerate(cases) if ci == c and status[i] == 1] for c in names}
    total = {c: sum(ci == c for ci in cases) for c in names}
    return done, total


def read_runs(f, name, runs):
    """Rows `runs` (sorted indices along `run`) of dataset `name` as an array."""
    import numpy as np
    ds = f[name]
    if len(runs) == 0:
        return np.empty((0,) + ds.shape[1:], dtype=ds.dtype)
    return ds[list(runs)]


def record_times(f, runs):
    """Times [len(runs), n_time] of each record of each run. `time` holds times
    when all runs share a record interval, else record indices (units="record")
    that each run's record_interval converts."""
    import numpy as np
    t = np.asarray(f["time"][()], dtype=float)
    if attr_str(f["time"], "units") == "record":
        return t[None, :] * read_runs(f, "record_interval", runs)[:, None]
    return np.broadcast_to(t, (len(runs), t.size))


def mean_sem(a, axis=0):
    """Mean and standard error of the mean over `axis`, ignoring NaN, and the
    count of finite values. sem is NaN where fewer than two values exist."""
    import numpy as np
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    n = ok.sum(axis=axis)
    x = np.where(ok, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=axis) / n
        dev = np.where(ok, a - np.expand_dims(mean, axis), 0.0)
        sem = np.sqrt((dev ** 2).sum(axis=axis) / (n - 1) / n)
    mean = np.where(n > 0, mean, np.nan)
    sem = np.where(n > 1, sem, np.nan)
    return mean, sem, n


def match_paths(final_cos):
    """Pair teachers with student paths from the final cosine similarities
    final_cos[m, p] (M teachers x P paths). Returns perm: perm[m] = the path
    matched to teacher m (-1 if M > P leaves teacher m without one), followed by
    the unmatched paths in index order.

    Each teacher goes with the path most similar to it (argmax of the final
    cosine). Pairs are taken greedily from the largest similarity down: that is
    exactly the argmax matching whenever it is one-to-one (per teacher or per
    path), and still a permutation when two teachers prefer the same path, as
    in runs that did not specialise."""
    import numpy as np
    c = np.array(final_cos, dtype=float)
    c[~np.isfinite(c)] = -np.inf
    M, P = c.shape
    perm = [-1] * M
    free_paths = set(range(P))
    for flat in np.argsort(-c, axis=None, kind="stable"):
        m, p = divmod(int(flat), P)
        if perm[m] < 0 and p in free_paths:
            perm[m] = p
            free_paths.discard(p)
    return perm + sorted(free_paths)


# ---------------------------------------------------------------------------
# Plotting helpers shared by the tools/plot_<sweep>.py scripts. Every script
# reads only its results file; these helpers turn the file's per-run arrays
# into what the paper's panels show. matplotlib and numpy are imported inside
# the functions, after the script has called ensure_interpreter().

CASE_COLORS = {"flexible": "black", "forgetful": "0.6"}
OTHER_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink",
                "tab:olive", "tab:cyan"]
TASK_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red", "tab:brown",
               "tab:pink", "tab:olive", "tab:cyan"]
SORTED_MODELS = ("nta_neuron", "fc")  # cos_sim and gates already sorted by teacher


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_args(doc, sweep_name):
    """Parse `SCRIPT RESULTS.h5 [-o OUT.png]`; the default output is
    RESULTS_<sweep_name>.png next to the results file."""
    import argparse
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(doc.split("\n\n")[1:]))
    ap.add_argument("results", metavar="RESULTS.h5")
    ap.add_argument("-o", "--output", metavar="OUT.png",
                    help="image to write (default: RESULTS_%s.png)" % sweep_name)
    args = ap.parse_args()
    if not args.output:
        args.output = os.path.splitext(args.results)[0] + "_%s.png" % sweep_name
    return args


def open_for_plot(path, required=()):
    """open_results plus the check that record times can be converted."""
    f = open_results(path, tuple(required) + ("case", "status", "time"))
    if attr_str(f["time"], "units") == "record" and "record_interval" not in f:
        die("%s: `time` is in records but dataset record_interval is missing" % path)
    return f


def varied_keys(f):
    """Coordinates along run (format 4) that take more than one value."""
    import numpy as np
    coords = attr_str(f["status"], "coordinates", "")
    out = set()
    for name in coords.split():
        if name in ("case", "run_key", "record_interval") or name not in f:
            continue
        v = f[name][()]
        if len(v) and not np.all(v == v[0]):
            out.add(name)
    return out


def check_sweep(f, path, sweep_name):
    """Refuse (exit 2) a file that varies keys the figure's own sweep file
    (sweeps/<sweep_name>.ini) keeps fixed: the figure script would average
    over them and label the mean as one setting. Needs the built ntasweep
    ($NTASWEEP or build/ntasweep); without it the check is skipped."""
    import json
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    spec = os.path.join(repo, "sweeps", sweep_name + ".ini")
    binary = os.environ.get("NTASWEEP") or os.path.join(repo, "build", "ntasweep")
    if not (os.path.exists(spec) and os.access(binary, os.X_OK)):
        return
    r = subprocess.run([binary, "plan", "--json", "--varied", spec], capture_output=True, text=True)
    if r.returncode != 0:
        return
    extra = sorted(varied_keys(f) - set(json.loads(r.stdout)["varied"]) - {"seed"})
    if extra:
        die("%s varies %s, which sweeps/%s.ini keeps fixed: plot_%s.py was written for that sweep and would "
            "average over %s. Plot it with tools/plot_sweep.py %s --x KEY --y METRIC instead"
            % (path, ", ".join(extra), sweep_name, sweep_name, "them" if len(extra) > 1 else "it", path))


def plot_start(doc, sweep_name, required=()):
    """The start of every plot script: its arguments and the open file,
    refused when it is from a sweep the script was not written for."""
    args = plot_args(doc, sweep_name)
    f = open_for_plot(args.results, required)
    check_sweep(f, args.results, sweep_name)
    return args, f


def case_label(case):
    return case if case else "(no case)"


def case_colors(cases):
    """A colour per case: the paper's black/gray for flexible/forgetful."""
    colors = {}
    for c in cases:
        colors[c] = CASE_COLORS.get(c) or OTHER_COLORS[len(colors) % len(OTHER_COLORS)]
    return colors


def done_runs(f, where=None):
    """Indices of done runs (status 1), optionally only those where
    where(i) is true."""
    import numpy as np
    status = np.asarray(f["status"][()])
    return [i for i in range(status.size) if status[i] == 1 and (where is None or where(i))]


def case_runs(f, case):
    """Done runs of one case."""
    cases = decode(f["case"][()])
    return done_runs(f, lambda i: cases[i] == case)


def param(f, key, runs):
    """Per-run values of a parameter key (strings decoded)."""
    import numpy as np
    v = read_runs(f, key, runs)
    return decode(v) if v.dtype.kind in "SU" else np.asarray(v)


def band(ax, x, y, color, label=None, **kw):
    """Mean +- s.e.m. over runs (axis 0) of y against x; returns the mean."""
    mean, sem, _ = mean_sem(y, axis=0)
    ax.plot(x, mean, color=color, label=label, lw=kw.pop("lw", 1.2), **kw)
    ax.fill_between(x, mean - sem, mean + sem, color=color, alpha=0.25, lw=0)
    return mean


def note(ax, text):
    """A boxed message where a panel has nothing to draw."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10,
            bbox=dict(boxstyle="round", fc="lightyellow", ec="0.7"))


def note_all(axes, text):
    for ax in axes:
        note(ax, text)


def x_in_blocks(f, runs, what=""):
    """Record times of `runs` in blocks (time / block_len), from the first
    run; runs averaged per record should share this axis (warns if not)."""
    import numpy as np
    xs = record_times(f, runs) / read_runs(f, "block_len", runs)[:, None]
    if not np.allclose(xs, xs[0], equal_nan=True):
        sys.stderr.write("warning: runs %sdiffer in record interval or block_len; plotted on "
                         "the first run's time axis\n" % ("of %r " % what if what else ""))
    return xs[0]


def sorted_by_teacher(f, runs):
    """Gates [run, time, q] and matched cosine [run, time, m] of `runs`, with
    q < M the gate of the path matched to teacher m = q (by the final
    cos_sim, match_paths) and q >= M the unmatched paths. Per-neuron and
    fully-connected runs store cos_sim and gates already sorted (path m is
    teacher m's sorted student), so they are taken as they are."""
    import numpy as np
    gates = read_runs(f, "gates", runs)
    cos = read_runs(f, "cos_sim", runs)
    M = read_runs(f, "teachers", runs)
    P = read_runs(f, "paths", runs)
    models = param(f, "model", runs) if "model" in f else ["nta"] * len(runs)
    g_sorted = np.full((len(runs), gates.shape[1], max(M.max(), P.max())), np.nan)
    c_match = np.full((len(runs), gates.shape[1], M.max()), np.nan)
    for i in range(len(runs)):
        m_i, p_i = int(M[i]), int(P[i])
        if models[i] in SORTED_MODELS:
            perm = list(range(m_i))
        else:
            finite = np.nonzero(np.isfinite(cos[i, :, :m_i, :p_i]).all(axis=(1, 2)))[0]
            if finite.size == 0:
                continue
            perm = match_paths(cos[i, finite[-1], :m_i, :p_i])
        for q, p in enumerate(perm):
            if p >= 0:
                g_sorted[i, :, q] = gates[i, :, p]
                if q < m_i:
                    c_match[i, :, q] = cos[i, :, q, p]
    return g_sorted, c_match, int(M.max())


def block_tasks(f, run):
    """Task index of every block of one run: block_task when the file has it
    (composition curricula), else the alternating b mod M."""
    import numpy as np
    nb = int(read_runs(f, "n_blocks", [run])[0])
    if "block_task" in f:
        bt = np.asarray(f["block_task"][run][:nb])
        if np.isfinite(bt).all():
            return bt.astype(int)
    return np.arange(nb) % int(read_runs(f, "teachers", [run])[0])


def shade_blocks(ax, f, run, alpha=0.08, x_in_time=False):
    """Shade each block of `run` in the colour of its task (x in blocks, or
    in time units with x_in_time)."""
    scale = float(read_runs(f, "block_len", [run])[0]) if x_in_time else 1.0
    for b, t in enumerate(block_tasks(f, run)):
        ax.axvspan(b * scale, (b + 1) * scale, color=TASK_COLORS[t % len(TASK_COLORS)],
                   alpha=alpha, lw=0)


def records_per_block(f, run):
    """Records per block when every block starts on a record (steps per block
    a multiple of record_every), else None."""
    steps = int(round(float(f["block_len"][run]) / float(f["dt"][run])))
    every = int(f["record_every"][run])
    return steps // every if steps % every == 0 else None


def by_block(f, name, runs):
    """Dataset `name` ([run, time, ...]) as [run, block, record in block, ...]
    for runs whose blocks start on records and share the layout; the record
    at index 0 of a block is that block's first step (before its update)."""
    rpb = {records_per_block(f, r) for r in runs}
    nb = {int(f["n_blocks"][r]) for r in runs}
    if len(rpb) != 1 or None in rpb or len(nb) != 1:
        die("runs %s do not share a block layout with a record at every block start "
            "(steps per block a multiple of record_every)" % list(runs))
    rpb, nb = rpb.pop(), nb.pop()
    a = read_runs(f, name, runs)[:, :rpb * nb]
    return a.reshape((len(runs), nb, rpb) + a.shape[2:])


def letters(axes, labels):
    """Bold panel letters above the top-left corner of each axis."""
    for ax, label in zip(axes, labels):
        ax.text(-0.12, 1.06, label, transform=ax.transAxes, fontsize=14, fontweight="bold")


def grid_mean(x, y, v):
    """Mean over seeds of per-run values v on the grid of the per-run
    coordinates x, y: returns xs, ys (sorted unique values) and
    mean[len(ys), len(xs)], sem and count (NaN / 0 where no run)."""
    import numpy as np
    x, y, v = (np.asarray(a, dtype=float) for a in (x, y, v))
    xs, ys = np.unique(x), np.unique(y)
    mean = np.full((ys.size, xs.size), np.nan)
    sem = np.full_like(mean, np.nan)
    count = np.zeros(mean.shape, dtype=int)
    for j, yv in enumerate(ys):
        for i, xv in enumerate(xs):
            m, s, n = mean_sem(v[np.isclose(x, xv) & np.isclose(y, yv)])
            mean[j, i], sem[j, i], count[j, i] = m, s, n
    return xs, ys, mean, sem, count


# The hyperparameter grids of Figs. 5 and A.7: per sweep, the parameters it
# needs, its column coordinate per run (the swept quantity as the paper's axis
# shows it), the axis labels, the time t at which the paper's value is read
# (None: the final state) and how its paths are matched to the teachers.
# Rows are always tau_B / tau_w (tau_W1 for the fully-connected network).
# Fig. 5: the authors' value is their last tape entry, the state at
# t = t_tot = 7 (fig5_NTA_hpam.ipynb: T_tape entries over linspace(0, t_tot));
# rows whose whole blocks end after 7 (tau_B = 0.8, 0.6, 0.4: 9, 12, 18
# blocks, t = 7.2) are read at the record of t = 7; their paths are sorted
# by the time-averaged cos_sim and compared one to one ("sorted":
# sorted_alignment_at). A.7 (the FC network) keeps the best path per
# teacher ("best": alignment_at).
GRID_FIGURES = {
    "fig5_tauc": (("tau_c",), lambda f, r: f["tau_w"][r] / f["tau_c"][r],
                  "gate learning rate $\\tau_w/\\tau_c$", "$\\tau_w$", "NTA", 7.0, "sorted"),
    "fig5_reg": (("lambda_nonneg",), lambda f, r: round(3 * f["lambda_nonneg"][r] / 5, 10),
                 "regularization strength $\\lambda$ ($\\lambda_{nonneg} = 5\\lambda/3$)", "$\\tau_w$", "NTA", 7.0,
                 "sorted"),
    "figA7_fc_tauw2": (("tau_w2",), lambda f, r: f["tau_w"][r] / f["tau_w2"][r],
                       "layer 2 learning rate $\\tau_{W_1}/\\tau_{W_2}$", "$\\tau_{W_1}$", "FC network", None, "best"),
    "figA7_fc_reg": (("lambda_nonneg",), lambda f, r: round(11 * f["lambda_nonneg"][r] / 10, 10),
                     "regularization strength $\\lambda$ ($\\lambda_{nonneg} = 10\\lambda/11$)", "$\\tau_{W_1}$",
                     "FC network", None, "best"),
}


def _record_at(f, r, t):
    """Run r's cos_sim (record, teacher, path), its count of recorded states
    and k, the record of time t: record k holds the state before step
    k * record_every, and k == that count is the state after the last step,
    the final one. None when no record lies at t (between records, or
    beyond the run)."""
    import numpy as np
    interval = float(f["record_interval"][r])
    k = int(round(t / interval))
    if abs(k * interval - t) > 1e-9 * max(1.0, t):
        return None
    cos = np.asarray(f["cos_sim"][r], dtype=float)
    valid = int((~np.isnan(cos).any(axis=(1, 2))).sum())
    return (cos, valid, k) if k <= valid else None


def alignment_at(f, runs, t):
    """Total alignment of each of `runs` at time t (one time, or one per run):
    the final state when t is None or the run ends at t, else the record of
    time t (the mean over teachers of the best path's mean row cosine, as
    total_alignment of the final state); NaN when t lies beyond the run or
    between records. The file needs cos_sim and record_interval for a t."""
    import numpy as np
    final = np.asarray(read_runs(f, "total_alignment", runs), dtype=float)
    if t is None:
        return final
    times = np.broadcast_to(np.asarray(t, dtype=float), final.shape)
    out = np.full(final.shape, np.nan)
    for i, r in enumerate(runs):
        at = _record_at(f, r, float(times[i]))
        if at is not None:
            cos, valid, k = at
            out[i] = cos[k].max(axis=1).mean() if k < valid else final[i]
    return out


def _mean_row_cosines(T, W):
    """cos[m, p] = mean over rows of cosine(row of T[m], row of W[p]) (0 for
    a zero row), as ntas_cos_sim."""
    import numpy as np
    T, W = np.asarray(T, dtype=float), np.asarray(W, dtype=float)
    dot = np.einsum("mij,pij->mpi", T, W)
    den = np.sqrt(np.einsum("mij,mij->mi", T, T)[:, None, :] * np.einsum("pij,pij->pi", W, W)[None, :, :])
    return np.where(den > 0, dot / np.where(den > 0, den, 1.0), 0.0).mean(axis=2)


def sorted_alignment_at(f, runs, t):
    """The authors' total alignment of Fig. 5 (run_config in their
    lcs/joint_learning.py: sort_it, then compute_concat_cossim, which
    replaces the per-step value of the loop): each path p < M is swapped
    with the teacher m of the highest cos_sim averaged over the whole tape
    (their tape spans t = 0 .. t_tot; here the records at times <= t and the
    final state when the run ends at t), reading the unsorted order each
    time, so two paths that lean to one teacher end swapped; then teacher m
    is compared with the path now at position m, one to one, at time t:
    the mean over m of cos_sim[m, path at m]. NaN where no record or final
    state lies at t. Needs cos_sim, record_interval, teacher_weights and
    student_weights."""
    import numpy as np
    out = np.full(len(runs), np.nan)
    times = np.broadcast_to(np.asarray(t, dtype=float), (len(runs),))
    for i, r in enumerate(runs):
        rec = _record_at(f, r, float(times[i]))
        if rec is None:
            continue
        cos, valid, k = rec
        seq = list(cos[:min(k + 1, valid)])
        if k == valid:
            seq.append(_mean_row_cosines(f["teacher_weights"][r], f["student_weights"][r]))
        at, avg = seq[k], np.mean(seq, axis=0)
        M, P = at.shape
        pos = list(range(P))
        for p in range(min(P, M)):
            m = int(np.argmax(avg[:, p]))
            if m != p:
                pos[p], pos[m] = m, p  # their tape2[p] = tape[m], tape2[m] = tape[p]
        out[i] = np.mean([at[m, pos[m]] for m in range(min(M, P))])
    return out


def grid_alignment(f, runs, sweep_name):
    """The total alignment a grid figure shows (GRID_FIGURES): at its reading
    time, with its authors' path matching (sorted by the time average, or
    the best path per teacher)."""
    read_at, matching = GRID_FIGURES[sweep_name][5:7]
    if matching == "sorted":
        return sorted_alignment_at(f, runs, read_at)
    return alignment_at(f, runs, read_at)


def alignment_grid_main(doc, sweep_name):
    """Figs. 5 and A.7: the total alignment (final, or at the figure's reading
    time: GRID_FIGURES), mean over seeds (A) and its
    s.e.m. (B), against block length (rows, longest on top, as the paper)
    and the sweep's second quantity (GRID_FIGURES)."""
    import numpy as np
    keys, x_of, xlabel, tau_name, model, read_at, matching = GRID_FIGURES[sweep_name]
    args, f = plot_start(doc, sweep_name, ("total_alignment", "block_len", "tau_w") + keys)
    plt = pyplot()
    runs = done_runs(f)
    xs, ys, mean, sem, count = grid_mean([x_of(f, r) for r in runs],
                                         [f["block_len"][r] / f["tau_w"][r] for r in runs],
                                         grid_alignment(f, runs, sweep_name))
    mean, sem, count, ys = mean[::-1], sem[::-1], count[::-1], ys[::-1]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    ylabel = "block length $\\tau_B/$" + tau_name
    # The paper's colour scale: 0.7 (two identical mixed paths give 0.71) to 1.
    im = heatmap(axes[0], mean, tick_labels(xs), tick_labels(ys), 0.7, 1.0)
    when = ("final" if read_at is None else "t = %g" % read_at) + (", paths sorted" if matching == "sorted" else "")
    fig.colorbar(im, ax=axes[0], label="total alignment (%s, mean over seeds)" % when, extend="min")
    authors = authors_grid(sweep_name)
    for (j, i), val in np.ndenumerate(mean):
        ref = next((v for (rb, col), v in authors.items()
                    if np.isclose(rb, ys[j], rtol=1e-2) and np.isclose(col, xs[i], rtol=1e-2, atol=1e-9)), None)
        if ref is not None:
            axes[0].text(i, j + 0.3, "authors %s" % (("%.2f" % ref) if not isinstance(ref, list)
                                                    else "%.2f-%.2f" % tuple(ref)),
                         ha="center", va="center", fontsize=6,
                         color="0.85" if np.isfinite(val) and val > 0.91 else "0.25")
    axes[0].set(xlabel=xlabel, ylabel=ylabel, title="%s: total alignment %s" % (
        model, "at the end" if read_at is None else
        "at t = %g (%s)" % (read_at, "sorted paths, as the authors'" if matching == "sorted" else
                            "the authors' last record")))
    top = max(0.05, np.nanmax(sem)) if np.isfinite(sem).any() else 0.05
    im = heatmap(axes[1], sem, tick_labels(xs), tick_labels(ys), 0, top, cmap="Greys", fmt="%.3f")
    fig.colorbar(im, ax=axes[1], label="s.e.m. over seeds")
    axes[1].set(xlabel=xlabel, ylabel=ylabel,
                title="s.e.m. (%d to %d seeds per cell)" % (count.min(), count.max()) if count.size else "s.e.m.")
    finish(fig, args, f, axes, "AB")


def authors_grid(sweep_name):
    """{(row, col): the authors' value} of a grid sweep from the reference
    table of tools/paper_check (tools/paper_reference.py); {} without one."""
    import runpy
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paper_reference.py")
    try:
        rows = runpy.run_path(path)["ROWS"]
    except Exception:  # the plot does not depend on the table
        return {}
    return {(r["measure"]["row"], r["measure"]["col"]): r["ref"] for r in rows
            if r["sweep"] == sweep_name and r["measure"].get("kind") == "grid"}


def heatmap(ax, z, xticks, yticks, vmin, vmax, cmap="Oranges", fmt="%.2f"):
    """z[row, col] as an image with every cell's value written in it."""
    import numpy as np
    im = ax.imshow(z, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(xticks)), xticks)
    ax.set_yticks(range(len(yticks)), yticks)
    for (j, i), val in np.ndenumerate(z):
        text = fmt % val if np.isfinite(val) else "n/a"
        ax.text(i, j, text, ha="center", va="center", fontsize=7,
                color="white" if np.isfinite(val) and val > vmin + 0.7 * (vmax - vmin) else "black")
    return im


def tick_labels(values, fmt="%.3g"):
    return [fmt % v for v in values]


def save_figure(fig, out, path, counts=None):
    """Title with the results file and the done-run counts, then write at
    130 dpi (or $NTATOOLS_DPI: the tests draw small images to save time)."""
    title = os.path.basename(path)
    if counts:
        title += "  (done runs: %s)" % counts
    fig.suptitle(title, fontsize=9, wrap=True)
    try:
        dpi = float(os.environ.get("NTATOOLS_DPI", "130"))
    except ValueError:
        die("NTATOOLS_DPI=%r is not a number" % os.environ["NTATOOLS_DPI"])
    try:
        fig.savefig(out, dpi=dpi)
    except OSError as e:
        die("cannot write %s: %s" % (out, e))
    print("wrote", out)


def finish(fig, args, f, panels=(), labels="", top=0.93, sem=False):
    """The end of every plot script: panel letters, layout (top: the
    fraction of the height left below the title; None keeps the figure's own
    layout), title with the done-run counts, and the file."""
    letters(panels, labels)
    if top is not None:
        fig.tight_layout(rect=(0, 0, 1, top))
    save_figure(fig, args.output, args.results,
                done_counts(f) + ("; mean \u00b1 s.e.m. over seeds" if sem else ""))


def done_counts(f):
    """'case n/total, ...' over all cases of the file."""
    done, total = group_by_case(f)
    return ", ".join("%s %d/%d" % (case_label(c), len(done[c]), total[c]) for c in done)


PATH_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]


def plane_trajectories(ax, w, gates=None, alpha=1.0, label=True):
    """Reduced model: each student's path through the teacher plane,
    w[time, p, m] = w^{p+1}_{m+1}; with gates[time, p], a thick gray trace
    under student p whose darkness follows its gate (Fig. 4B, C)."""
    import numpy as np
    from matplotlib.collections import LineCollection
    for p in range(w.shape[1]):
        xy = w[:, p, :2]
        ok = np.isfinite(xy).all(axis=1)
        xy = xy[ok]
        if len(xy) < 2:
            continue
        if gates is not None:
            g = np.clip(np.asarray(gates)[ok, p], 0, 1)
            seg = np.stack([xy[:-1], xy[1:]], axis=1)
            ax.add_collection(LineCollection(seg, colors=[(0, 0, 0, 0.35 * v) for v in g[1:]],
                                             linewidths=9, zorder=1))
        color = PATH_COLORS[p % len(PATH_COLORS)]
        ax.plot(xy[:, 0], xy[:, 1], color=color, lw=1.8, alpha=alpha, zorder=2,
                label="student %d" % (p + 1) if label else None)
        ax.plot(xy[0, 0], xy[0, 1], "o", color=color, ms=4, alpha=alpha, zorder=3)
        ax.annotate("", xy=xy[-1], xytext=xy[max(0, len(xy) - 3)], zorder=3,
                    arrowprops=dict(arrowstyle="-|>", color=color, alpha=alpha, lw=1.5))
    ax.plot([1, 0], [0, 1], "*", ms=12, mfc="none", mec="k", ls="none")
    ax.set(xlabel="$w^p_1$ (along teacher 1)", ylabel="$w^p_2$ (along teacher 2)")
    ax.set_aspect("equal", adjustable="box")


def authors_specialization(cos):
    """Fig. A.13's specialization, as the authors' notebook measures it:
    over the last 1/8 of the records of cos[time, teacher, path] (2 x 2),
    each cosine smoothed by a moving average of 1/10 of that stretch
    (zero-padded at the ends, numpy's 'same'), then the largest
    |cos(teacher p, path p) - cos(teacher p', path p)| over time and paths.
    NaN with fewer than 16 finite records."""
    import numpy as np
    c = np.asarray(cos, dtype=float)[:, :2, :2]
    c = c[np.isfinite(c).all(axis=(1, 2))]
    n = len(c) // 8
    if n < 2:
        return float("nan")
    w = max(1, n // 10)
    kernel = np.ones(w) / w
    s = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), 0,
                            c[-n:].reshape(n, 4)).reshape(n, 2, 2)
    return float(max(np.abs(s[:, 0, 0] - s[:, 1, 0]).max(), np.abs(s[:, 1, 1] - s[:, 0, 1]).max()))


class Checks:
    """Counter of pass/fail checks for the outcome test scripts: call with a
    condition and what it means; summary() prints the totals and returns the
    exit status (1 if any check failed)."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        self.passed += bool(cond)
        self.failed += not cond

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0
