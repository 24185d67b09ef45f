"""What the benchmarks share, in one place: the seeds argument, the 'mean ± sd' cell and the markdown table."""

import numpy as np


def add_seeds_argument(parser, default=(0,)):
    """``--seeds 0 1 2``: the training seeds of a benchmark (one run per seed, reported as mean ± sd)."""
    parser.add_argument("--seeds", nargs="+", type=int, default=list(default),
                        help="training seeds, one run each (mean ± sd over them)")


def mean_sd(value_l, decimals=3):
    """'mean ± sd' of the values of several seeds (sample standard deviation), 'mean' alone for one value."""
    value_v = np.asarray(value_l, dtype=float)
    text = f"{value_v.mean():.{decimals}f}"
    return text + (f" ± {value_v.std(ddof=1):.{decimals}f}" if len(value_v) > 1 else "")


def markdown_table(header_l, row_l, align_l=None):
    """A markdown table's lines: the header, the alignment line (``align_l``: '---' or '---:' per column, default
    the first column left and the others right) and one line per row (each a list of cells)."""
    align_l = align_l or ["---", *["---:"] * (len(header_l) - 1)]
    return ["| " + " | ".join(header_l) + " |", "| " + " | ".join(align_l) + " |",
            *("| " + " | ".join(str(cell) for cell in row) + " |" for row in row_l)]
