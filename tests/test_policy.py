"""The policy each benchmark declares (dask_bench.policy), read from the source without importing it."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from conftest import REPO
from dask_bench import policy

SUITE = """
counted = False


class Base:
    factor = 1.2


class Latency(Base):
    params = ["processes", "threads"]
    paired_blocks = 40

    def time_one(self, workers):
        pass

    time_one.paired_blocks = {"processes": 240}
    time_one.factor = 1.05

    def time_two(self, workers):
        pass

    def track_memory(self):
        pass


class Load:
    selection = "load"

    def time_big(self):
        pass
"""


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "mod.py").write_text(SUITE)
    (tmp_path / "other.py").write_text("class Plain:\n    def time_x(self):\n        pass\n")
    policy._suite.cache_clear()
    yield tmp_path
    policy._suite.cache_clear()


def test_the_method_wins_over_the_class_its_bases_and_the_module(suite):
    one = policy.policy_of("mod.Latency.time_one('processes')", suite)
    assert (one.paired_blocks, one.factor, one.counted) == (240, 1.05, False)
    assert policy.policy_of("mod.Latency.time_one('threads')", suite).paired_blocks == 40  # no key: the class's
    two = policy.policy_of("mod.Latency.time_two('processes')", suite)
    assert (two.paired_blocks, two.factor) == (40, 1.2)  # the base class's factor
    plain = policy.policy_of("other.Plain.time_x", suite)
    assert plain == policy.Policy(**policy.DEFAULTS), "undeclared: the documented defaults"
    assert plain.goal == pytest.approx(0.10)
    assert plain.calibrations == ()


def test_a_tuple_or_list_of_calibrations_names_each(suite):
    first, second = sorted(path.name for path in policy.CALIBRATION_DIR.glob("*.json"))[:2]
    (suite / "mod.py").write_text(SUITE.replace("    paired_blocks = 40", f"    calibration = [{first!r}, {second!r}]"))
    found = policy.policy_of("mod.Latency.time_two('threads')", suite)
    assert found.calibrations == (first, second) and isinstance(found.calibration, tuple)


def test_a_calibration_list_two_benchmarks_share_is_a_module_constant_joined_with_plus(suite):
    first, second, third = sorted(path.name for path in policy.CALIBRATION_DIR.glob("*.json"))[:3]
    source = f"SHARED = ({second!r}, {third!r})\n" + SUITE.replace(
        "    paired_blocks = 40", f"    calibration = {{'processes': ({first!r},) + SHARED, 'threads': SHARED}}")
    (suite / "mod.py").write_text(source)
    assert policy.policy_of("mod.Latency.time_two('processes')", suite).calibrations == (first, second, third)
    assert policy.policy_of("mod.Latency.time_two('threads')", suite).calibrations == (second, third)
    (suite / "mod.py").write_text(source.replace("+ SHARED", "+ UNDEFINED"))
    policy._suite.cache_clear()
    with pytest.raises(policy.PolicyError, match="or a name the module assigns one"):
        policy.policy_of("mod.Latency.time_two('processes')", suite)


def test_selections_give_asv_regexes_that_select_exactly_their_benchmarks(suite):
    names = ["mod.Latency.time_one", "mod.Latency.time_two", "mod.Latency.track_memory", "mod.Load.time_big",
             "other.Plain.time_x"]
    assert policy.benchmark_names(suite) == sorted(names)
    load, default = policy.selection_regex("load", suite), policy.selection_regex("default", suite)
    assert [n for n in names if re.search(load, n)] == ["mod.Load.time_big"]
    assert [n for n in names if re.search(default, n)] == [n for n in names if n != "mod.Load.time_big"]
    assert re.search(default, "mod.Latency.time_one('threads')") and not re.search(load, "mod.Load.time_bigger")
    with pytest.raises(policy.PolicyError, match="no benchmark declares selection = 'quick'"):
        policy.selection_regex("quick", suite)


@pytest.mark.parametrize("line, needle", [
    ("    factor = 1.0", "factor 1.0 must be a number above 1"),
    ("    paired_blocks = 4", "paired_blocks 4 must be an integer of at least 8"),
    ("    paired_segments = 50", "paired_segments 50 must be an integer from 1 to paired_blocks"),
    ("    selection = 'nightly'", "selection 'nightly' must be one of quick, default, load"),
    ("    selection = {'processes': 'load'}", "selection is one value for the whole benchmark"),
    ("    calibration = 'nowhere.json'", "calibration 'nowhere.json' is not a file of"),
    ("    calibration = ('detection.md', 'nowhere.json')", "calibration 'nowhere.json' is not a file of"),
    ("    calibration = ('detection.md', 'detection.md')", "calibration 'detection.md' is named twice"),
    ("    sequential = 'yes'", "sequential 'yes' must be True or False"),
    ("    factor = round(1.05, 2)", "must be a literal"),
])
def test_a_bad_declaration_is_one_line_naming_the_benchmark_and_the_rule(suite, line, needle):
    (suite / "mod.py").write_text(SUITE.replace("    paired_blocks = 40", line))
    with pytest.raises(policy.PolicyError, match=re.escape(needle)) as error:
        policy.policy_of("mod.Latency.time_two('threads')", suite)
    assert "\n" not in str(error.value)


def test_a_renamed_benchmark_is_an_error_not_a_default(suite):
    for label in ("mod.Latency.time_three", "mod.Gone.time_one", "nomod.X.time_y", "not a label"):
        with pytest.raises(policy.PolicyError, match="no such benchmark"):
            policy.policy_of(label, suite)
    assert policy.counted("mod.Gone.time_one") is False  # an old result's name: shown, not counted


def test_every_benchmark_of_the_suite_has_a_valid_policy_and_the_calibration_it_names_covers_it():
    """The suite's own declarations: every label asv recorded resolves (no bad value, no stale name),
    and each counted time_ benchmark names a committed calibration that measured it."""
    info = json.loads((REPO / "results" / "benchmarks.json").read_text())
    labels = [f"{b['name']}({', '.join(combo)})" if b["params"] else b["name"]
              for b in info.values() if isinstance(b, dict)
              for combo in (itertools.product(*b["params"]) if b["params"] else [()])]
    assert set(policy.benchmark_names()) == {b["name"] for b in info.values() if isinstance(b, dict)}, (
        "results/benchmarks.json is stale: make discover")
    for label in labels:
        found = policy.policy_of(label)
        if found.counted and found.selection != "load" and ".time_" in label:
            assert found.calibrations, f"{label} names no calibration"
            for name in found.calibrations:
                data = json.loads((policy.CALIBRATION_DIR / name).read_text())
                assert any(e["benchmark"] == label for e in data["matrix"]), f"{name} lacks {label}"
    quick = [label for label in labels if policy.policy_of(label).selection == "quick"]
    assert sorted({label.split("(")[0] for label in quick}) == ["futures.SubmitLatency.time_map_gather",
                                                                "futures.SubmitLatency.time_submit_result"]
    assert all(policy.policy_of(label).factor == 1.05 for label in quick)
    assert not any(policy.counted(label) for label in labels if label.startswith("baselines."))


def test_the_committed_detection_table_is_what_make_detection_prints_today():
    """results/calibration/detection.md is generated (make detection), never pasted: a changed
    default or calibration shows here until the table is generated again."""
    from dask_bench.host import calibrate

    committed = (REPO / "results" / "calibration" / "detection.md").read_text()
    assert calibrate.summary("vm") == committed, (
        "stale: python -m dask_bench.host.calibrate --summary --machine vm --markdown results/calibration/detection.md")
