"""A benchmark's asv version: the code its timed body runs, never its settings or its comments.

asv hashes only a benchmark's own method and setup. Here the version also covers its whole module,
the dask_bench modules it imports beyond the shared ones, the shared code every timed body runs
(SHARED_SOURCES) and the dataset preset, each without comments, docstrings, layout or the policy
attributes the tools read (dask_bench.policy: blocks, factor, selection... change how a benchmark is
judged, not what it times). After any other change, stored results are "not comparable" instead of
being silently compared with new ones.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import sys
from pathlib import Path

from dask_bench import datasets
from dask_bench.policy import DEFAULTS as POLICY

ROOT = Path(__file__).resolve().parent.parent
SHARED_SOURCES = ("benchmarks/__init__.py", "benchmarks/common.py", "dask_bench/workloads.py",
                  "dask_bench/tasks.py", "dask_bench/cluster.py", "dask_bench/janitor.py",
                  "dask_bench/datasets.py", "dask_bench/settings.py", "dask_bench/watchdog.py",
                  "data_prep/manifest.py")


def _is_policy(node: ast.AST) -> bool:
    return isinstance(node, ast.Assign) and all(
        (isinstance(t, ast.Name) and t.id in POLICY) or (isinstance(t, ast.Attribute) and t.attr in POLICY)
        for t in node.targets)


def _policy_names(tree: ast.AST) -> set[str]:
    """The module's names that only policy attributes use (a list of calibrations two benchmarks share)."""
    in_policy = [n for node in ast.walk(tree) if _is_policy(node) for n in ast.walk(node.value)
                 if isinstance(n, ast.Name)]
    seen = {id(n) for n in in_policy}
    elsewhere = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                 and id(n) not in seen}
    return {n.id for n in in_policy} - elsewhere


def normalized(source: str) -> str:
    """Source without comments, docstrings, layout or policy attributes (and the names only they use):
    what such an edit does not change."""
    tree = ast.parse(source)
    names = _policy_names(tree)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        body = [item for item in body if not _is_policy(item) and not (
            isinstance(item, ast.Assign) and all(getattr(t, "id", None) in names for t in item.targets))]
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        node.body = body or [ast.Pass()]
    return ast.unparse(tree)


def _shared_identity() -> str:
    digest = hashlib.sha256()
    for relative in SHARED_SOURCES:
        digest.update(relative.encode() + b"\0" + normalized((ROOT / relative).read_text()).encode() + b"\0")
    digest.update(datasets.identity().encode())
    return digest.hexdigest()


SHARED_IDENTITY = _shared_identity()


def _own_sources(module) -> list[tuple[str, str]]:
    """(name, source) of the module and of every other dask_bench module it imports (journey.py, say)."""
    sources = [(module.__name__, inspect.getsource(module))]
    shared = {(ROOT / relative).resolve() for relative in SHARED_SOURCES}
    for value in vars(module).values():
        if inspect.ismodule(value) and value.__name__.startswith("dask_bench.") \
                and Path(value.__file__).resolve() not in shared:
            sources.append((value.__name__, inspect.getsource(value)))
    return sorted(sources)


def version_of(cls) -> str:
    """A benchmark class's asv version (see the module's docstring)."""
    digest = hashlib.sha256(SHARED_IDENTITY.encode())
    for name, source in _own_sources(sys.modules[cls.__module__]):
        digest.update(b"\0" + name.encode() + b"\0" + normalized(source).encode())
    return digest.hexdigest()
