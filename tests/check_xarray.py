#!/usr/bin/env python3
"""Check that an ntasweep results file opens in xarray with named dimensions.

Opens FILE with xarray.open_dataset(engine="h5netcdf") -- which names each
dimension after the HDF5 dimension scale attached to it -- and checks the dims
of the main results and of every per-run parameter.

usage: check_xarray.py FILE.h5      (exit 0 ok, 1 check failed, 2 cannot run)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("xarray", "h5netcdf", "h5py", "numpy"))
import xarray  # noqa: E402

PARAMS = ("model", "d_in", "d_out", "paths", "teachers", "teacher", "teacher_seed",
          "curriculum", "batch", "dt", "tau_w", "tau_c", "block_len", "n_blocks", "norm",
          "lambda_nonneg", "lambda_norm", "lambda_w", "seed", "record_every", "init_sigma")
EXPECTED = {"loss": ("run", "time"), "gates": ("run", "time", "gate"),
            "cos_sim": ("run", "time", "task", "path"), "time_to_threshold": ("run", "block"),
            "specialization": ("run",)}
EXPECTED.update({k: ("run",) for k in PARAMS + ("case", "run_key", "record_interval")})
EXPECTED["status"] = None  # must exist; dims not prescribed


def unscaled_variables(path):
    """Variables with an axis that has no dimension scale attached (what
    h5netcdf refuses to open without phony_dims)."""
    import h5py
    bad = []
    with h5py.File(path, "r") as f:
        for name, obj in f.items():
            if isinstance(obj, h5py.Dataset) and not h5py.h5ds.is_scale(obj.id):
                axes = [i for i, d in enumerate(obj.dims) if len(d) == 0]
                if axes:
                    bad.append("%s (axis %s)" % (name, ",".join(map(str, axes))))
    return bad


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.stderr.write(__doc__.split("\n\n")[-1] + "\n")
        return 2
    path = sys.argv[1]
    ntatools.open_results(path).close()  # clear exit 2 for a missing or non-HDF5 file
    try:
        ds = xarray.open_dataset(path, engine="h5netcdf")
    except ValueError as e:
        if "dimension scale" not in str(e):
            raise
        print("FAIL: h5netcdf cannot name every dimension; no dimension scale attached to: "
              + ", ".join(unscaled_variables(path)))
        return 1

    failures = []
    phony = sorted(d for d in ds.dims if str(d).startswith("phony"))
    if phony:
        failures.append("phony dimension names: %s" % ", ".join(phony))
    print("checked: %d dimensions %s, none named phony_*" % (len(ds.dims), dict(ds.sizes)))
    for name, dims in EXPECTED.items():
        if name not in ds.variables:
            failures.append("variable %s missing" % name)
        elif dims is not None and ds[name].dims != dims:
            failures.append("%s has dims %s, expected %s" % (name, ds[name].dims, dims))
    print("checked: dims of %s" % ", ".join("%s%s" % (k, v) for k, v in EXPECTED.items()
                                           if v and k not in PARAMS))
    print("checked: %d parameters along (run,): %s" % (len(PARAMS), " ".join(PARAMS)))
    print("checked: status exists")
    ds.close()
    for msg in failures:
        print("FAIL:", msg)
    print("%s: %s" % (path, "FAILED (%d problems)" % len(failures) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
