"""`make check`: everything a measurement needs, checked before asv starts, one line per problem.

    python -m dask_bench.host.preflight [--config asv.conf.json]

The DASK_BENCH_* settings and the data (dask_bench.settings), plus what the host tools need: an
asv configuration that parses, a results directory that can be written, and stored results that
parse. Exit 1 with the problems (each naming its fix), 0 when all is well.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .. import settings
from . import asvapi
from .asv_config import MAIN_CONFIG


def results_problems(results_dir: Path) -> list[str]:
    problems = []
    results_dir = Path(results_dir)
    probe_dir = results_dir if results_dir.exists() else results_dir.parent
    try:
        with tempfile.NamedTemporaryFile(dir=probe_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        problems.append(f"cannot write results to {results_dir} ({exc.strerror or exc}); make it writable, or point "
                        "\"results_dir\" in asv.conf.json (ASV_CONFIG=…) at a writable directory")
        return problems
    for path in sorted(results_dir.glob("*/*.json")):
        try:
            json.loads(path.read_text())
        except (ValueError, OSError) as exc:
            problems.append(f"{path} is not a readable asv result ({' '.join(str(exc).split())[:80]}); restore it "
                            f"(git checkout -- {path}) or delete it")
    return problems


def check(config: Path) -> list[str]:
    problems = settings.check()
    try:
        conf = asvapi.config(config)
    except asvapi.AsvError as exc:
        return problems + [str(exc)]
    return problems + results_problems(Path(conf.results_dir))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path(os.environ.get("ASV_CONFIG") or MAIN_CONFIG))
    args = parser.parse_args(argv)
    found = check(args.config)
    for problem in found:
        print(f"dask_bench: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
