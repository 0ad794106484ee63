#!/usr/bin/env python3
"""Plot Fig. A.15 of Sandbrink et al. (NeurIPS 2024) from an ntasweep results
file of sweeps/figA15.ini: for each Fashion-MNIST label order of task 2
(upper-to-lower left, warm-to-cold right), the test accuracy under the
current task's labels (top) and the flexible head's gates (bottom), mean +-
s.e.m. over seeds. The panels are those of tools/plot_fig7.py; a file that
varies a key sweeps/figA15.ini keeps fixed is refused (exit 2).

usage: plot_figA15.py RESULTS.h5 [-o OUT.png]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_fig7  # noqa: E402

if __name__ == "__main__":
    plot_fig7.main("_figA15.png", __doc__, "figA15")
