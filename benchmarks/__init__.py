"""asv benchmarks of Dask distributed; see README.md.

asv runs these in its own environments (distributed and the matrix packages, not this suite), so the
repository root goes on sys.path: the support packages dask_bench and data_prep are imported from
this checkout, never installed.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
