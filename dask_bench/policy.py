"""Each benchmark's settings for the tools that judge it, declared beside the benchmark as asv's own
`timeout`, `rounds` and `number` are, and read here from benchmarks/*.py as text (nothing imported).

| attribute         | default     | meaning                                                                 |
|-------------------|-------------|-------------------------------------------------------------------------|
| `factor`          | 1.10        | the smallest change that matters: "same" means the whole interval of the ratio lies within [1/factor, factor] |
| `paired_blocks`   | 30          | blocks a side in a paired comparison                                    |
| `paired_segments` | 1           | fresh pairs of servers those blocks are split among: 1, or 8 and more (with a few, a pair judged on segment means has few degrees of freedom: docs/calibration.md) |
| `counted`         | True        | False: shown, never counted in a verdict (the baselines)               |
| `selection`       | "default"   | "quick": also in the default comparison; "default": make bench and full comparisons; "load": make load only |
| `sequential`      | False       | True: a comparison looks after every segment and stops once settled (calibrated so) |
| `calibration`     | None        | the committed calibration (results/calibration/NAME) its detectable effect rests on; a tuple of names measured at the same plan pools their A/A pairs |

A value set on the method (`time_x.factor = 1.05`) wins over the class's, which wins over its base
classes' and then the module's, as asv reads its own attributes. A value may be a dict from the
benchmark's leading parameter values, written without quotes ("processes", "4, 1"), to the
value; a label that no key matches falls through to the next level. A value is a literal, or names
a literal constant of its module, tuples joined with + (a list of calibrations two benchmarks share).
These attributes, and the constants only they use, are left out of a benchmark's identity
(dask_bench.identity): changing one does not invalidate its results.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK_DIR = ROOT / "benchmarks"
CALIBRATION_DIR = ROOT / "results" / "calibration"
DEFAULTS = {"factor": 1.10, "paired_blocks": 30, "paired_segments": 1, "counted": True, "selection": "default",
            "sequential": False, "calibration": None}
SELECTIONS = ("quick", "default", "load")
MIN_BLOCKS = 8  # verdict.MIN_PAIRS: the signed-rank test needs 8 pairs to reach p < 0.01
BENCHMARK_PREFIXES = ("time_", "track_", "peakmem_", "mem_", "timeraw_")
LABEL = re.compile(r"^(?P<module>\w+)\.(?P<cls>\w+)\.(?P<method>\w+)(?:\((?P<params>.*)\))?$")


class PolicyError(Exception):
    pass


@dataclass(frozen=True)
class Policy:
    factor: float
    paired_blocks: int
    paired_segments: int
    counted: bool
    selection: str
    sequential: bool
    calibration: str | tuple | None

    @property
    def goal(self) -> float:
        """The detectable effect the calibration must show, as a fraction (0.05 for a factor of 1.05)."""
        return round(self.factor - 1, 6)

    @property
    def calibrations(self) -> tuple:
        """The names of the calibrations it rests on (one, several whose A/A pairs pool, or none)."""
        return () if self.calibration is None else (self.calibration,) if isinstance(self.calibration, str) \
            else tuple(self.calibration)


@dataclass
class _Class:
    module: str
    bases: list[str]
    attrs: dict
    methods: dict[str, dict]
    where: str


def _literal(node: ast.AST, where: str, names: dict | None = None):
    """A literal, in which a name stands for the literal the module assigns it and + joins tuples."""
    try:
        if isinstance(node, ast.Name) and node.id in (names or {}):
            return names[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _literal(node.left, where, names) + _literal(node.right, where, names)
        if isinstance(node, ast.Dict) and None not in node.keys:
            return {_literal(k, where, names): _literal(v, where, names) for k, v in zip(node.keys, node.values)}
        return ast.literal_eval(node)
    except (ValueError, TypeError):
        raise PolicyError(f"{where}: a policy attribute must be a literal (a number, string, bool, tuple or dict), "
                          "or a name the module assigns one") from None


def _read_module(path: Path) -> tuple[dict, dict[str, _Class]]:
    """(module-level policy attributes, {class name: _Class}) of one benchmark module."""
    tree = ast.parse(path.read_text(), str(path))
    module_attrs, classes, names = {}, {}, {}
    for node in tree.body:  # the module's literal constants, which a policy attribute may name
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                names[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in DEFAULTS:
                    module_attrs[target.id] = _literal(node.value, f"{path.name}:{node.lineno}", names)
        elif isinstance(node, ast.ClassDef):
            attrs, methods = {}, {}
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith(
                        BENCHMARK_PREFIXES):
                    methods.setdefault(item.name, {})
                if not isinstance(item, ast.Assign):
                    continue
                for target in item.targets:
                    where = f"{path.name}:{item.lineno}"
                    if isinstance(target, ast.Name) and target.id in DEFAULTS:
                        attrs[target.id] = _literal(item.value, where, names)
                    elif (isinstance(target, ast.Attribute) and target.attr in DEFAULTS
                          and isinstance(target.value, ast.Name)):
                        methods.setdefault(target.value.id, {})[target.attr] = _literal(item.value, where, names)
            bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
            classes[node.name] = _Class(path.stem, bases, attrs, methods, f"{path.name}:{node.lineno}")
    return module_attrs, classes


@functools.lru_cache(maxsize=4)
def _suite(benchmark_dir: Path = BENCHMARK_DIR) -> tuple[dict, dict]:
    modules, classes = {}, {}
    for path in sorted(Path(benchmark_dir).glob("*.py")):
        modules[path.stem], classes[path.stem] = _read_module(path)
    return modules, classes


def _find_class(classes: dict, module: str, name: str) -> _Class | None:
    """A class of `module`, or a base class named so in any module of the suite (common.py's)."""
    if name in classes.get(module, {}):
        return classes[module][name]
    return next((found[name] for found in classes.values() if name in found), None)


def _pick(value, params: str | None, key: str, where: str):
    """A declared value, or the one its dict gives for these parameters (None: no key matches)."""
    if not isinstance(value, dict):
        return value
    if key == "selection":
        raise PolicyError(f"{where}: selection is one value for the whole benchmark, not per parameter")
    params = params and ", ".join(p.strip().strip("'\"") for p in params.split(","))
    matching = [k for k in value if params is not None and (params == k or params.startswith(f"{k}, "))]
    return value[max(matching, key=len)] if matching else None


def policy_of(label: str, benchmark_dir: Path = BENCHMARK_DIR) -> Policy:
    """The policy of one benchmark: `module.Class.method` or with its parameters, as asv labels it."""
    match = LABEL.match(label)
    modules, classes = _suite(Path(benchmark_dir))
    cls = match and _find_class(classes, match["module"], match["cls"])
    if not match or cls is None or match["method"] not in cls.methods:
        raise PolicyError(f"{label}: no such benchmark in {benchmark_dir} (renamed? asv's benchmarks.json lists "
                          "what exists: run asv again, or fix the name)")
    chain, seen = [], set()
    while cls is not None and id(cls) not in seen:  # the class, then its bases, first base first
        seen.add(id(cls))
        chain.append(cls)
        cls = next((found for found in (_find_class(classes, cls.module, b) for b in cls.bases) if found), None)
    sources = [(chain[0].methods[match["method"]], chain[0].where)] + [(c.attrs, c.where) for c in chain] \
        + [(modules[match["module"]], f"{match['module']}.py")]
    values = {}
    for key, default in DEFAULTS.items():
        values[key] = default
        for attrs, where in sources:
            if key in attrs:
                picked = _pick(attrs[key], match["params"], key, where)
                if picked is not None:
                    values[key] = picked
                    break
    if isinstance(values["calibration"], list):
        values["calibration"] = tuple(values["calibration"])
    return _checked(Policy(**values), label)


def _checked(policy: Policy, label: str) -> Policy:
    problems = []
    if not (isinstance(policy.factor, (int, float)) and policy.factor > 1):
        problems.append(f"factor {policy.factor!r} must be a number above 1")
    if not (isinstance(policy.paired_blocks, int) and policy.paired_blocks >= MIN_BLOCKS):
        problems.append(f"paired_blocks {policy.paired_blocks!r} must be an integer of at least {MIN_BLOCKS}")
    if not (isinstance(policy.paired_segments, int) and 1 <= policy.paired_segments <= policy.paired_blocks):
        problems.append(f"paired_segments {policy.paired_segments!r} must be an integer from 1 to paired_blocks")
    for name in ("counted", "sequential"):
        if not isinstance(getattr(policy, name), bool):
            problems.append(f"{name} {getattr(policy, name)!r} must be True or False")
    if policy.selection not in SELECTIONS:
        problems.append(f"selection {policy.selection!r} must be one of {', '.join(SELECTIONS)}")
    names = policy.calibration if isinstance(policy.calibration, (tuple, list)) else (policy.calibration,)
    for name in names:
        if name is not None and not (isinstance(name, str) and (CALIBRATION_DIR / name).is_file()):
            problems.append(f"calibration {name!r} is not a file of {CALIBRATION_DIR}")
    problems += [f"calibration {name!r} is named twice (its A/A pairs would count twice)"
                 for name in sorted({n for n in names if names.count(n) > 1}, key=str)]
    if problems:
        raise PolicyError(f"{label}: {'; '.join(problems)}")
    return policy


def benchmark_names(benchmark_dir: Path = BENCHMARK_DIR) -> list[str]:
    """Every benchmark's name (module.Class.method, without parameters), as asv discovers them."""
    _, classes = _suite(Path(benchmark_dir))
    return sorted(f"{module}.{name}.{method}" for module, found in classes.items() for name, cls in found.items()
                  if not name.startswith("_") for method in cls.methods
                  if method.startswith(BENCHMARK_PREFIXES) and (module != "common"))


def selection_regex(selection: str, benchmark_dir: Path = BENCHMARK_DIR) -> str:
    """An asv -b regex for the benchmarks a run of `selection` includes: "quick" those declared so,
    "default" all but the load benchmarks, "load" the load benchmarks."""
    names = benchmark_names(benchmark_dir)
    of = {name: policy_of(name, benchmark_dir).selection for name in names}
    if selection == "default":
        load = [re.escape(n) for n in names if of[n] == "load"]
        return rf"^(?!(?:{'|'.join(load)})(?:\(|$))" if load else "."
    chosen = [re.escape(n) for n in names if of[n] == selection]
    if not chosen:
        raise PolicyError(f"no benchmark declares selection = {selection!r}")
    return rf"^(?:{'|'.join(chosen)})(?:\(|$)"


def counted(label: str) -> bool:
    """Whether a verdict counts this benchmark; a name the suite does not have (an old result's)
    is shown, not counted."""
    try:
        return policy_of(label).counted
    except PolicyError:
        return False
