#!/usr/bin/env python3
"""Plot Fig. A.12C-H of Sandbrink et al. (NeurIPS 2024) from a results file of
sweeps/figA12_composition.ini: the composition runs of Fig. 3 in the authors'
earlier unit scale (teachers of singular value 1, loss averaged over
outputs), the panels of tools/plot_fig3_composition.py:

  C, D  task loss, flexible (black) and forgetful (gray); the dashed line
        marks the first block of a composite task
  E, F  gates of the flexible model, sorted by teacher
  G, H  cosine similarity of each base teacher with its (sorted) student

usage: plot_figA12_composition.py RESULTS.h5 [-o OUT.png]
"""
import sys

import plot_fig3_composition

if __name__ == "__main__":
    sys.exit(plot_fig3_composition.a12_figure(__doc__, "figA12_composition"))
