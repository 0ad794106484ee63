#!/usr/bin/env python3
"""A metric against a swept parameter, for any sweep: mean ± s.e.m. over seeds.

    tools/plot_sweep.py OUT.h5 --x tau_c --y specialization [--hue case] [-o OUT.png]
    tools/plot_sweep.py OUT.h5 --x tau_c --y loss --over time      (one curve per x value)

--y is a column of `ntasweep export` (specialization, total_alignment,
final_loss, mean_time_to_threshold, final_accuracy, ...) or, with --over time,
a (run, time) dataset (loss, update_norm_c, accuracy, ...). Runs that are not
done are left out. Every other parameter that varies must be --x, --hue or
seed: the plot refuses to average over it silently (it names the keys).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntatools  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", metavar="OUT.h5")
    ap.add_argument("--x", required=True, metavar="KEY", help="parameter on the x axis")
    ap.add_argument("--y", required=True, metavar="METRIC", help="metric on the y axis")
    ap.add_argument("--hue", metavar="KEY", help="one line per value of KEY (e.g. case)")
    ap.add_argument("--over", choices=("time",), help="y over time, one line per --x value")
    ap.add_argument("-o", "--output", metavar="OUT.png", help="image (default OUT_KEY_METRIC.png)")
    args = ap.parse_args()
    ntatools.ensure_interpreter(("h5py", "numpy", "pandas", "matplotlib"))
    import numpy as np
    import ntaframe
    df = ntaframe.runs(args.results, done=True)
    if df.empty:
        ntatools.die("%s: no run is done yet" % args.results)
    with ntatools.open_results(args.results) as f:
        varied = ntatools.varied_keys(f) | ({"case"} if df["case"].nunique() > 1 else set())
        series = None
        if args.over:
            if args.y not in f or f[args.y].ndim != 2:
                ntatools.die("%s: --over time needs a (run, time) dataset; %r is not one" % (args.results, args.y))
            series = f[args.y][()][df["run"].values]
            times = f["time"][()]
    for key in (args.x, args.hue):
        if key and key not in df.columns:
            ntatools.die("%s: no parameter %r (columns: %s)" % (args.results, key, ", ".join(df.columns)))
    if not args.over and args.y not in df.columns:
        ntatools.die("%s: no metric %r (columns: %s)" % (args.results, args.y, ", ".join(df.columns)))
    # A key that moves with --x or --hue (a case's regulariser, a derived
    # n_blocks) is fine; one that varies within a point would be averaged.
    groups = [k for k in (args.x, args.hue) if k]
    hidden = sorted(k for k in varied - {args.x, args.hue, "seed"}
                    if (df.groupby(groups)[k].nunique() > 1).any())
    if hidden:
        ntatools.die("%s: %s also vary%s; plotting would average over them. Use --hue for one of them or "
                     "export a subset (ntasweep export)" % (args.results, ", ".join(hidden), "" if len(hidden) > 1 else "s"))
    plt = ntatools.pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    hues = sorted(df[args.hue].unique()) if args.hue else [None]
    line = 0
    for hue in hues:
        sub = df if hue is None else df[df[args.hue] == hue]
        if args.over:
            for xv in sorted(sub[args.x].unique()):
                rows = np.flatnonzero(((df[args.x] == xv) & ((df[args.hue] == hue) if hue is not None else True)).values)
                label = "%s=%s" % (args.x, xv) + ("" if hue is None else ", %s=%s" % (args.hue, hue))
                ntatools.band(ax, times[:series.shape[1]], series[rows], "C%d" % (line % 10), label=label)
                line += 1
            continue
        xs = sorted(sub[args.x].unique())
        stats = [ntatools.mean_sem(sub[sub[args.x] == xv][args.y].values)[:2] for xv in xs]
        ax.errorbar(xs, [float(m) for m, _ in stats], yerr=[float(e) for _, e in stats], marker="o", capsize=3,
                    label=None if hue is None else "%s=%s" % (args.hue, hue))
    ax.set_xlabel("time" if args.over else args.x)
    ax.set_ylabel(args.y)
    if args.hue or args.over:
        ax.legend(fontsize=8)
    out = args.output or os.path.splitext(args.results)[0] + "_%s_%s.png" % (args.x, args.y)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    ntatools.save_figure(fig, out, args.results, "%d; mean \u00b1 s.e.m. over seeds" % len(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
