#!/usr/bin/env python3
"""Write a fake ntasweep results file in the layout the C program writes.

The data are made up but shaped like the paper's Fig. 2 (two teachers, two
paths): the "flexible" case specialises its paths and switches its gates ever
faster, the "forgetful" case keeps gates near 0.5 and relearns every block.
Each run's paths are randomly permuted so that tools must re-sort them.
Used to test the plotting and checking tools before real results exist.

    make_fake_results.py OUT.h5 [--seeds 3] [--extra-case NAME]
                         [--fail CASE] [--record-units]
"""
import argparse
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402

SPEC_TEXT = """# fake sweep for testing the Python tools
[defaults]
d_in = 10
d_out = 3
paths = 2
teachers = 2
block_len = 2.0
n_blocks = 20
dt = 0.01
record_every = 5

[flexible]
tau_c = 0.03
lambda_norm = 0.2
lambda_nonneg = 0.2

[forgetful]
tau_c = 1.0
lambda_norm = 0
lambda_nonneg = 0

seed = 0, 1, 2
"""

BASE = dict(model="nta", d_in=10, d_out=3, paths=2, teachers=2, teacher="orthogonal",
            teacher_seed=1234, curriculum="alternating", batch=100, dt=0.01, tau_w=1.0,
            tau_c=0.03, block_len=2.0, n_blocks=20, norm="l1", lambda_nonneg=0.2,
            lambda_norm=0.2, lambda_w=0.0, seed=0, record_every=5, init_sigma=0.01)
CASE_PARAMS = {"flexible": dict(tau_c=0.03, lambda_nonneg=0.2, lambda_norm=0.2),
               "forgetful": dict(tau_c=1.0, lambda_nonneg=0.0, lambda_norm=0.0)}

# (dimension names) of every non-scale dataset; parameters are added below.
DIMS = {"case": ("run",), "run_key": ("run",), "record_interval": ("run",),
        "status": ("run",), "message": ("run",), "loss": ("run", "time"),
        "gates": ("run", "time", "gate"), "cos_sim": ("run", "time", "task", "path"),
        "update_norm_w": ("run", "time", "path"), "update_norm_c": ("run", "time"),
        "time_to_threshold": ("run", "block"), "specialization": ("run",),
        "total_alignment": ("run",), "teacher_weights": ("run", "task", "output", "input"),
        "student_weights": ("run", "path", "output", "input"), "gates_final": ("run", "gate")}


def simulate(p, flexible, rng):
    """Fake trajectories of one run, on records t = k*dt*record_every."""
    M, P, nb, L = p["teachers"], p["paths"], p["n_blocks"], p["block_len"]
    dtr = p["dt"] * p["record_every"]
    per_block = int(round(L / dtr))
    n_time = nb * per_block + 1
    t = np.arange(n_time) * dtr
    perm = rng.permutation(P)  # path serving teacher m is perm[m]
    loss = np.empty(n_time)
    gates = np.empty((n_time, P))
    cos = np.empty((n_time, M, P))
    g = np.full(P, 0.5)
    ttt = np.full(nb, np.nan)
    slow_seed = rng.random() < 0.5  # some forgetful runs never reach 0.1 in late blocks
    for b in range(nb):
        k0, k1 = b * per_block, (b + 1) * per_block + 1
        tb = t[k0:k1] - t[k0]
        task = b % M
        if flexible:
            rate = 1.5 + 1.2 * b
            speed = 0.5 + 2.0 * b
            target = np.zeros(P)
            target[perm[task]] = 1.0
        else:
            rate = 1.0 if (slow_seed and b >= nb // 2) else 2.5
            speed = 0.3
            target = np.full(P, 0.5)
        rate *= 1 + 0.1 * rng.standard_normal()
        loss[k0:k1] = (0.9 + 0.2 * rng.random()) * np.exp(-rate * tb) + 0.002 * rng.random(k1 - k0)
        gates[k0:k1] = target + (g - target) * np.exp(-speed * tb)[:, None]
        gates[k0:k1] += 0.02 * rng.standard_normal((k1 - k0, P))
        g = gates[k1 - 1].copy()
        below = np.nonzero(loss[k0:k1] < 0.1)[0]
        if below.size:
            ttt[b] = tb[below[0]]
        for m in range(M):
            for q in range(P):
                if flexible:
                    final = 0.97 if q == perm[m] else 0.02
                    cos[k0:k1, m, q] = final * (1 - np.exp(-t[k0:k1] / (0.25 * nb * L)))
                else:  # the path relearns whichever teacher is active
                    cos[k0:k1, m, q] = 0.5 + (0.3 if m == task else -0.3) * (1 - np.exp(-2 * tb))
    cos += 0.01 * rng.standard_normal(cos.shape)
    upd_w = np.abs(np.gradient(cos.sum(axis=1), axis=0))
    upd_c = np.abs(np.gradient(gates, axis=0)).sum(axis=1)
    return dict(t=t, loss=loss, gates=gates, cos=cos, ttt=ttt, perm=perm, upd_w=upd_w, upd_c=upd_c)


def orthogonal_teachers(p):
    rng = np.random.default_rng(p["teacher_seed"])
    M, d_out, d_in = p["teachers"], p["d_out"], p["d_in"]
    q, _ = np.linalg.qr(rng.standard_normal((d_in, M * d_out)))
    return q.T.reshape(M, d_out, d_in)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--extra-case", action="append", default=[], metavar="NAME",
                    help="add a case with these (flexible-like) dynamics")
    ap.add_argument("--fail", action="append", default=[], metavar="CASE",
                    help="mark every run of CASE as failed (status 2)")
    ap.add_argument("--record-units", action="store_true",
                    help='store `time` as record indices with units="record"')
    args = ap.parse_args()

    runs = []
    for case in ["flexible", "forgetful"] + args.extra_case:
        for seed in range(args.seeds):
            p = dict(BASE, **CASE_PARAMS.get(case, {}), seed=seed)
            runs.append((case, p))
    n = len(runs)
    sims = [simulate(p, case != "forgetful", np.random.default_rng([seed_hash(case), p["seed"]]))
            for case, p in runs]
    p0 = runs[0][1]
    M, P, d_out, d_in, nb = p0["teachers"], p0["paths"], p0["d_out"], p0["d_in"], p0["n_blocks"]
    n_time = len(sims[0]["t"])
    teach = orthogonal_teachers(p0)

    data = {k: [] for k in DIMS}
    for (case, p), s in zip(runs, sims):
        failed = case in args.fail
        student = np.empty((P, d_out, d_in))
        for m in range(M):
            student[s["perm"][m]] = teach[m] * (1.0 if case != "forgetful" else 0.5)
        student += 0.01 * np.random.default_rng(p["seed"]).standard_normal(student.shape)
        nan = np.nan if failed else 1.0  # failed runs keep only NaN results
        key = hashlib.sha256(repr(sorted(p.items())).encode()).hexdigest()[:16]
        row = dict(case=case, run_key=key, record_interval=p["dt"] * p["record_every"],
                   status=2 if failed else 1, message="diverged (fake)" if failed else "",
                   loss=s["loss"] * nan, gates=s["gates"] * nan, cos_sim=s["cos"] * nan,
                   update_norm_w=s["upd_w"] * nan, update_norm_c=s["upd_c"] * nan,
                   time_to_threshold=s["ttt"] * nan,
                   specialization=float(np.abs(s["cos"][-1, :, 0] - s["cos"][-1, :, 1]).mean()) * nan,
                   total_alignment=float(s["cos"][-1].max(axis=1).mean()) * nan,
                   teacher_weights=teach, student_weights=student * nan,
                   gates_final=s["gates"][-1] * nan)
        for k, v in row.items():
            data[k].append(v)
        for k, v in p.items():
            data.setdefault(k, []).append(v)

    with h5py.File(args.out, "w") as f:
        for k, v in (("ntasweep_version", "0.1.0"), ("spec_file", "sweeps/fake.ini"),
                     ("spec_text", SPEC_TEXT),
                     ("spec_hash", hashlib.sha256(SPEC_TEXT.encode()).hexdigest()[:16])):
            f.attrs[k] = np.bytes_(v)  # fixed-length, as the C writer stores them
        f.attrs["format_version"] = np.int64(1)
        f.attrs["n_runs"] = np.int64(n)

        scales = {"run": np.arange(n, dtype=np.int64),
                  "time": np.arange(n_time, dtype=float) if args.record_units else sims[0]["t"],
                  "block": np.arange(nb, dtype=np.int64), "gate": np.arange(P, dtype=np.int64),
                  "task": np.arange(M, dtype=np.int64), "path": np.arange(P, dtype=np.int64),
                  "output": np.arange(d_out, dtype=np.int64), "input": np.arange(d_in, dtype=np.int64)}
        for name, v in scales.items():
            f.create_dataset(name, data=v).make_scale(name)
        if args.record_units:
            f["time"].attrs["units"] = np.bytes_("record")

        for name, rows in data.items():
            if isinstance(rows[0], str):
                arr = np.array([r.encode() for r in rows], dtype="S%d" % max(1, max(map(len, rows))))
            elif isinstance(rows[0], (int, np.integer)) and name != "status":
                arr = np.array(rows, dtype=np.int64)
            elif name == "status":
                arr = np.array(rows, dtype=np.int8)
            else:
                arr = np.array(rows, dtype=float)
            ds = f.create_dataset(name, data=arr)
            for axis, dim in enumerate(DIMS.get(name, ("run",))):
                ds.dims[axis].attach_scale(f[dim])
    print("wrote %s: %d runs, %d records, cases %s" % (args.out, n, n_time,
                                                        ", ".join(sorted({c for c, _ in runs}))))


def seed_hash(case):
    return int(hashlib.sha256(case.encode()).hexdigest()[:8], 16)


if __name__ == "__main__":
    main()
