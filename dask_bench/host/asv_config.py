"""asv configurations derived from asv.conf.json (for A/A noise runs, config A/B variants, tests)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from asv.util import load_json

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
MAIN_CONFIG = REPO_ROOT / "asv.conf.json"
OUT_DIR = REPO_ROOT / "out"  # what each run writes for people (tables, JSON, profiles): ignored by git
# make bench and make load store their runs here, never in results/ (the committed history): ignored by git,
# under a machine name no committed result uses, so a publish shows them beside the history, never in it.
LOCAL_RESULTS = REPO_ROOT / ".asv" / "results"
LOCAL_CONFIG = REPO_ROOT / ".asv" / "local.conf.json"


def local_machine() -> str:
    return f"local-{socket.gethostname()}"
_PATH_KEYS = ("repo", "env_dir", "results_dir", "html_dir", "benchmark_dir")


def derive(out: Path, base: Path = MAIN_CONFIG, **overrides) -> Path:
    """Write `base` with `overrides` applied to `out`; relative paths are made absolute (relative
    to `base`'s directory), so the derived file works from anywhere."""
    config = load_json(str(base), js_comments=True)
    config.update(overrides)
    for key in _PATH_KEYS:
        if key in config and not Path(str(config[key])).is_absolute() and "://" not in str(config[key]):
            config[key] = str((Path(base).resolve().parent / str(config[key])).resolve())
        elif key in config:
            config[key] = str(config[key])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(config, indent=2) + "\n")
    return out
