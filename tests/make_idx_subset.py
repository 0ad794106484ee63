#!/usr/bin/env python3
"""Write the first images of an IDX dataset directory into another directory.

Tests use it to pretrain on a few thousand real images instead of 60 000.
Reads <src>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; writes the
first --train and --test of them, gzip-compressed, under the same names
(with --test-only, only the t10k files: the layout of the 10k-only MNIST,
which ntasweep splits 4:1). --flip-pixel changes one pixel of the first
test image (other data, same sizes).

usage: make_idx_subset.py SRC DST --train N --test M [--test-only] [--flip-pixel]
"""
import argparse
import gzip
import os
import struct
import sys


def read_idx(path):
    for p in (path + ".gz", path):
        if os.path.exists(p):
            opener = gzip.open if p.endswith(".gz") else open
            with opener(p, "rb") as f:
                return f.read()
    sys.exit("make_idx_subset: no %s[.gz]" % path)


def subset(data, n):
    magic, count = struct.unpack(">II", data[:8])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    if n > count:
        sys.exit("make_idx_subset: only %d items" % count)
    item = 1
    for d in dims[1:]:
        item *= d
    header = struct.pack(">I", magic) + struct.pack(">I", n) + data[8:4 + 4 * rank]
    body = bytearray(data[4 + 4 * rank:4 + 4 * rank + n * item])
    return header, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--train", type=int, default=0)
    ap.add_argument("--test", type=int, required=True)
    ap.add_argument("--test-only", action="store_true")
    ap.add_argument("--flip-pixel", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.dst, exist_ok=True)
    splits = [("t10k", a.test)] + ([] if a.test_only else [("train", a.train)])
    for split, n in splits:
        for kind in ("images-idx3", "labels-idx1"):
            name = "%s-%s-ubyte" % (split, kind)
            header, body = subset(read_idx(os.path.join(a.src, name)), n)
            if a.flip_pixel and split == "t10k" and kind == "images-idx3":
                body[300] = 255 - body[300]
            with gzip.open(os.path.join(a.dst, name + ".gz"), "wb") as f:
                f.write(header + bytes(body))


if __name__ == "__main__":
    main()
