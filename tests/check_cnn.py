#!/usr/bin/env python3
"""Check the CNN-embedded variant's outcome in a results file (tests/cnn_smoke.ini).

- Every run is done; the file holds one complete /pretrained group whose CNN
  reaches --min-accuracy on its test images (a broken network does not).
- cnn_alone starts from the pretrained head: its first recorded accuracy
  (task 1 = the original labels) is exactly the pretrained CNN's.
- In the last three blocks (after the first few switches), for every seed
  of the flexible head: the gates are separated at each block's end and the
  dominant one alternates with the task; the accuracy 10% into a block is
  within 0.06 of the block's end (mean over seeds).
- The forgetful head, in the same blocks, is still 0.2 below its block's end
  accuracy 10% into the block (it relearns).
With --same-pretrained OTHER.h5 the pretrained groups of both files must be
bitwise equal (an extended file keeps its pretraining).

usage: check_cnn.py RESULTS.h5 [--min-accuracy A] [--same-pretrained OTHER.h5]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))
import numpy as np  # noqa: E402

check = ntatools.Checks()


def groups(f):
    return {k: f["pretrained"][k] for k in f["pretrained"]} if "pretrained" in f else {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--min-accuracy", type=float, default=0.78)
    ap.add_argument("--same-pretrained")
    a = ap.parse_args()
    f = ntatools.open_results(a.results)
    status = f["status"][()]
    check(bool((status == 1).all()), "every run done (status %s)" % status)
    pre = groups(f)
    check(len(pre) == 1, "one pretrained group (%d)" % len(pre))
    if len(pre) != 1:
        return check.summary()
    g = next(iter(pre.values()))
    acc0 = float(g["test_accuracy"][0])
    check(int(g["status"][0]) == 1, "pretrained group complete")
    check(acc0 >= a.min_accuracy, "pretrained test accuracy %.4f >= %.2f" % (acc0, a.min_accuracy))
    check(g["train_features"].shape[1] == 64 and np.isfinite(g["train_features"][()]).all()
            and (g["train_features"][()] >= 0).all(), "train features finite ReLU outputs")

    case = np.array([s.decode() for s in f["case"][()]])
    acc, gates, t = f["accuracy"][()], f["gates"][()], f["time"][()]
    per = int(round(1.0 / (t[1] - t[0])))
    n_blocks = acc.shape[1] // per
    alone = np.where(case == "cnn_alone")[0]
    check(len(alone) > 0 and all(acc[i, 0] == acc0 for i in alone),
            "cnn_alone starts at the pretrained accuracy %.4f: %s" % (acc0, acc[alone, 0]))

    late = range(max(1, n_blocks - 3), n_blocks)
    flex = np.where(case == "flexible")[0]
    for i in flex:
        end_gates = gates[i].reshape(n_blocks, per, -1)[:, -1, :]
        dom = np.argmax(end_gates, axis=1)
        sep = np.abs(end_gates[:, 0] - end_gates[:, 1])
        check(all(sep[b] > 0.5 for b in late), "seed %d: gates separated in blocks %s: %s"
                % (f["seed"][i], list(late), np.round(sep, 2)))
        check(all(dom[b] != dom[b - 1] for b in late), "seed %d: dominant gate alternates: %s"
                % (f["seed"][i], dom))
    for name, lo, hi in (("flexible", -0.06, None), ("forgetful", None, -0.2)):
        sel = np.where(case == name)[0]
        a3 = acc[sel].reshape(len(sel), n_blocks, per).mean(axis=0)
        early, end = a3[:, per // 10], a3[:, -1]
        for b in late:
            d = early[b] - end[b]
            ok = (lo is None or d >= lo) and (hi is None or d <= hi)
            check(ok, "%s block %d: accuracy %.3f after 0.1 block vs %.3f at its end" % (name, b, early[b], end[b]))

    if a.same_pretrained:
        other = groups(ntatools.open_results(a.same_pretrained))
        check(sorted(other) == sorted(pre), "same pretrained groups: %s vs %s" % (sorted(pre), sorted(other)))
        for k in set(other) & set(pre):
            for ds in pre[k]:
                check(pre[k][ds][()].tobytes() == other[k][ds][()].tobytes(), "pretrained %s/%s equal" % (k, ds))
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
