#!/usr/bin/env python3
"""`ntasweep export` round trip (tests/cli.sh cli_export).

usage: check_export.py OUT.h5 EXPORT.csv EXPORT.tsv EXPORT.json DONE.csv

The CSV, TSV and JSON tables equal, cell by cell, the table tools/ntaframe.py
builds from h5py, and every parameter column equals its dataset in the file;
DONE.csv (--done) holds exactly the done runs. Exit 0 ok, 1 a check failed.
"""
import json
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy", "pandas"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import ntaframe  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def same(a, b):
    """Cell equality: NaN equals NaN and the empty cell; numbers exactly."""
    def blank(x):
        return x is None or (isinstance(x, float) and math.isnan(x)) or (isinstance(x, str) and x == "")
    if blank(a) or blank(b):
        return blank(a) and blank(b)
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    return float(a) == float(b)


def compare(name, table, frame):
    check(list(table.columns) == list(frame.columns), "%s: same columns as ntaframe (%d)" % (name, len(frame.columns)))
    bad = [(i, c) for c in frame.columns for i in range(len(frame))
           if c in table.columns and not same(table[c].iloc[i], frame[c].iloc[i])]
    check(len(table) == len(frame) and not bad, "%s: every cell equals ntaframe's%s" % (name, " (first difference: run %d, %s)" % bad[0] if bad else ""))


def main():
    path, csv, tsv, js, done_csv = sys.argv[1:6]
    frame = ntaframe.runs(path)
    text_cols = {c: str for c in frame.columns if frame[c].dtype == object}
    compare("csv", pd.read_csv(csv, dtype=text_cols, keep_default_na=False, na_values=[""], float_precision="round_trip"), frame)
    compare("tsv", pd.read_csv(tsv, sep="\t", dtype=text_cols, keep_default_na=False, na_values=[""], float_precision="round_trip"), frame)
    with open(js) as fh:
        rows = json.load(fh)
    compare("json", pd.DataFrame(rows, columns=list(rows[0].keys())), frame)
    for needed in ("tau_c", "case", "t_total", "status", "message", "specialization", "total_alignment",
                   "final_loss", "mean_time_to_threshold"):
        check(needed in frame.columns, "column %s present" % needed)
    with h5py.File(path, "r") as f:
        check(np.array_equal(frame.tau_c.values, f["tau_c"][()]), "tau_c equals the h5py dataset")
        check(list(frame.case) == ntatools.decode(f["case"][()]), "case equals the h5py dataset")
        loss = f["loss"][()]
        last = [row[np.isfinite(row)][-1] for row in loss]
        check(np.array_equal(frame.final_loss.values, np.array(last)), "final_loss is the last recorded loss")
    done = pd.read_csv(done_csv, keep_default_na=False, na_values=[""])
    check(len(done) == int((frame.status == 1).sum()) and set(done.status) <= {1}, "--done keeps exactly the done runs")
    print("%d checks failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
