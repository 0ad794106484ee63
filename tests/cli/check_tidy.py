#!/usr/bin/env python3
"""Tidy-results checks on a file of tests/cli/tidy.ini (tests/cli.sh cli_tidy).

Every run parameter, [vars] variable included, is a coordinate along run in
xarray (h5netcdf), strings decode to str, and sel / where / groupby work; h5py
sees the same values as plain datasets.

usage: check_tidy.py FILE.h5     (exit 0 ok, 1 a check failed)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("xarray", "h5netcdf", "h5py", "numpy"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    path = sys.argv[1]
    ds = xr.open_dataset(path, engine="h5netcdf")
    for key in ("tau_c", "block_len", "n_blocks", "model", "case", "run_key", "seed", "t_total"):
        check(key in ds.coords and ds[key].dims == ("run",), "%s is a coordinate along run" % key)
    check("specialization" in ds.data_vars and "tau_c" not in ds.data_vars, "results are data variables, parameters are not")
    check(all(isinstance(v, str) for v in ds.case.values), "case decodes to str")
    check(isinstance(ds.model.values[0], str) and ds.model.values[0] == "nta", "model decodes to str 'nta'")
    groups = ds.specialization.groupby("case").mean()
    check(sorted(groups["case"].values.tolist()) == ["flexible", "forgetful"], "groupby('case') labels are str")
    sub = ds.sel(run=ds.tau_c == 0.1)
    check(sub.sizes["run"] == 8 and set(sub.case.values) == {"flexible"}, "ds.sel(run=ds.tau_c == 0.1) selects the 8 flexible runs")
    kept = ds.where(ds.t_total == 4, drop=True)
    check(kept.sizes["run"] == 8 and bool((kept.n_blocks == np.round(4 / kept.block_len)).all()),
          "ds.where(ds.t_total == 4): 8 runs, n_blocks = t_total / block_len")
    check(sorted(ds.specialization.groupby("t_total").mean()["t_total"].values.tolist()) == [2.0, 4.0],
          "groupby on a [vars] variable")
    import ntaframe
    dx = ntaframe.dataset(path)
    by_value = dx.sel(tau_c=0.1)
    check(by_value.sizes["run"] == 8 and set(by_value.case.values) == {"flexible"},
          "ntaframe.dataset: ds.sel(tau_c=0.1) selects the 8 flexible runs by value")
    both = dx.sel(tau_c=0.1, t_total=4.0)
    check(both.sizes["run"] == 4 and bool((both.t_total == 4.0).all()), "ntaframe.dataset: sel on a parameter and a [vars] variable")
    check("run_key" not in dx.indexes and np.array_equal(dx.specialization.values, ds.specialization.values, equal_nan=True),
          "ntaframe.dataset: same values, run_key not indexed")
    with h5py.File(path, "r") as f:
        check(f["tau_c"].dtype == np.float64 and np.array_equal(f["tau_c"][:], ds.tau_c.values), "h5py reads tau_c plainly")
        check(f["case"].dtype.kind == "S" and f["case"][0] in (b"flexible", b"forgetful"), "h5py reads case as fixed-length bytes")
        check(np.array_equal(f["t_total"][:], ds.t_total.values), "h5py reads t_total")
        check(int(f.attrs["format_version"]) == 5, "format_version 5")
    print("%d checks failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
