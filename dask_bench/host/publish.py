"""`make publish`: asv's pages of the committed history and of this machine's own runs, beside each other.

    python -m dask_bench.host.publish [--config asv.conf.json]

asv publishes one results directory. This one merges, in .asv/publish/, the committed results/ and
the runs `make bench` and `make load` stored in .asv/results/ under their own machine name (asv
shows each machine apart: a line never joins a point of this machine, today, to the history), then
runs `asv publish` and makes the pages load their scripts from the site itself (vendor).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from . import vendor
from .asv_config import LOCAL_RESULTS, MAIN_CONFIG, REPO_ROOT, derive
from .cli import ToolError, command
from .revisions import load_config

MERGED = REPO_ROOT / ".asv" / "publish"


def merge(committed: Path, local: Path, out: Path) -> Path:
    """out/: the committed results, then this machine's own machines (and its benchmarks.json: the
    current code's, when it has one) on top."""
    shutil.rmtree(out, ignore_errors=True)
    if committed.is_dir():
        shutil.copytree(committed, out)
    out.mkdir(parents=True, exist_ok=True)
    if local.is_dir():
        for item in local.iterdir():
            if item.is_dir():
                shutil.copytree(item, out / item.name, dirs_exist_ok=True)
            elif item.name == "benchmarks.json":
                shutil.copy2(item, out / item.name)
    return out


@command("publish")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    args = parser.parse_args(argv)
    conf = load_config(args.config)
    merged = merge(Path(conf.results_dir), LOCAL_RESULTS, MERGED / "results")
    config = derive(MERGED / "asv.conf.json", args.config, results_dir=merged)
    if subprocess.run([sys.executable, "-m", "asv", "publish", "--config", str(config)]).returncode != 0:
        raise ToolError("asv publish failed (see above)")
    html = Path(conf.html_dir)
    if not html.is_absolute():
        html = (args.config.resolve().parent / html).resolve()
    return vendor.main([str(html)])


if __name__ == "__main__":
    sys.exit(main())
