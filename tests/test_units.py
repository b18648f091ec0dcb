"""Unit tests: the decision rule on synthetic samples whose answer is known, fresh_keys, the results
reader, the benchmarks' identity, and the calibration's code injection."""

from __future__ import annotations

import json
import math
import re
import shutil
import signal
import sys
from pathlib import Path

import dask
import dask.array as da
import dask.bag as db
import numpy as np
import pytest

from conftest import REPO
from dask_bench import workloads
from dask_bench.host import verdict
from dask_bench.host.calibrate import SITES, inject
from dask_bench.host.results import ResultsError, runs

RNG = np.random.default_rng(42)


@pytest.fixture(autouse=True)
def same_draws_in_any_order():
    """Each test draws the same synthetic samples whichever tests run before it (-k, a failed -x)."""
    global RNG
    RNG = np.random.default_rng(42)


def timings(median: float, n: int = 40, spread: float = 0.05) -> list[float]:
    """Right-skewed samples (lognormal) around `median`, like timing data."""
    return list(median * RNG.lognormal(0, spread, n))


# -- the decision rule -------------------------------------------------------------------------

def test_a_ratio_is_shown_with_three_significant_digits_trailing_zeros_kept():
    same = verdict.Decision("same", 1.0, 0.97249, 1.0301)
    assert verdict.format_ratio(same) == "1.00 [0.972, 1.03]"
    assert verdict.format_ratio(verdict.Decision("slower", 123.4, 120.0, 130.0)) == "123 [120, 130]"
    assert verdict.format_ratio(verdict.Decision("no statistics", 0.5)) == "0.500"
    assert verdict.format_ratio(verdict.Decision("too few samples", math.nan)) == "n/a"


def test_a_time_is_shown_in_the_unit_that_keeps_three_digits_above_one():
    from dask_bench.host.results import format_value

    shown = {v: format_value(v, "seconds") for v in (1.0, 0.9996, 0.987, 1.2345e-3, 0.99996e-3, 2.5e-5, 5e-10,
                                                     999.4, 1234.5)}
    assert shown == {1.0: "1.00 s", 0.9996: "1.00 s", 0.987: "987 ms", 1.2345e-3: "1.23 ms", 0.99996e-3: "1.00 ms",
                     2.5e-5: "25.0 us", 5e-10: "0.500 ns", 999.4: "999 s", 1234.5: "1,234 s"}
    # a journey's phase can be a hair below zero: shown as a time, not in scientific notation
    assert format_value(-2e-5, "seconds") == "-20.0 us" and format_value(0.0, "seconds") == "0 s"
    assert format_value(math.nan, "seconds") == "failed or skipped"


def drifting_blocks(median: float, drift: np.ndarray, n: int = 8) -> list:
    """Blocks of `n` samples measured while the machine drifts: block i runs at median x drift[i]."""
    return [timings(median * factor, n) for factor in drift]


def test_detectable_effect_grows_with_noise_and_never_falls_below_the_factor():
    drift = RNG.lognormal(0, 0.01, 60)
    tight = verdict.decide_paired(drifting_blocks(1.0, drift, 30), drifting_blocks(1.0, drift, 30), 1.05)
    loose = verdict.decide_paired([[x] for x in RNG.lognormal(0, 0.3, 12)], [[x] for x in RNG.lognormal(0, 0.3, 12)], 1.05)
    assert verdict.detectable_effect(tight, 1.05) == pytest.approx(0.05)
    assert verdict.detectable_effect(loose, 1.05) > 0.1


def test_paired_blocks_cancel_a_drift_far_larger_than_the_change():
    # the machine moves +-30% from block to block, both sides alike: the 8% shows through it
    drift = RNG.lognormal(0, 0.3, 30)
    base, head = drifting_blocks(10e-3, drift), drifting_blocks(10.8e-3, drift)
    paired = verdict.decide_paired(base, head, factor=1.05)
    assert paired.verdict == "slower" and 1 < paired.low <= paired.ratio <= paired.high < 1.12
    # the same code on both sides, the same drift: not flagged, a narrow interval around 1
    aa = verdict.decide_paired(base, drifting_blocks(10e-3, drift), factor=1.05)
    assert aa.verdict == "same" and aa.low < 1 < aa.high < 1.05


def test_same_means_the_whole_interval_lies_within_the_factor():
    """The paired verdict's three outcomes (an equivalence test beside the test of a difference): an
    interval that straddles the factor is inconclusive, one inside it is same (a clear change inside
    still shows its size), one beyond it is slower or faster."""
    def judged(ratio, low, high, p=1e-6):
        d = verdict.Decision("same", ratio, low, high, p, p, 1.05)
        return verdict.three_way(d), verdict.verdict_text(verdict.replace(d, verdict=verdict.three_way(d)))

    assert judged(1.04, 1.02, 1.06) == ("inconclusive", "inconclusive, +4.0%")  # the map/gather case
    assert judged(1.03, 1.01, 1.049) == ("same", "same, +3.0%")
    assert judged(1.00, 0.97, 1.03, p=0.8) == ("same", "same")
    assert judged(1.10, 1.08, 1.12)[0] == "slower" and judged(0.90, 0.88, 0.92)[0] == "faster"
    assert judged(1.00, 0.93, 1.07, p=0.9) == ("inconclusive", "inconclusive")  # too wide to say
    assert judged(1.08, 0.99, 1.18, p=0.02)[0] == "inconclusive"  # beyond the factor, not significant
    # the same through decide_paired, on blocks: a large change, an A/A pair, too few blocks to tell
    drift = RNG.lognormal(0, 0.1, 40)
    assert verdict.decide_paired(drifting_blocks(10e-3, drift), drifting_blocks(12e-3, drift), 1.05).verdict == "slower"
    aa = verdict.decide_paired(drifting_blocks(10e-3, drift), drifting_blocks(10e-3, drift), 1.05)
    assert aa.verdict == "same" and 1 / 1.05 < aa.low < aa.high < 1.05
    noisy = [[x] for x in RNG.lognormal(0, 0.08, 8)], [[x] for x in RNG.lognormal(0, 0.08, 8)]
    assert verdict.decide_paired(*noisy, 1.05).verdict == "inconclusive"
    # adjusted together, a change that is no longer significant is judged again by the same rule
    lone = verdict.Decision("slower", 1.08, 1.001, 1.16, 0.009, 1e-6, 1.05)
    assert verdict.adjusted([lone, *[verdict.replace(lone, p=0.9)] * 5])[0].verdict == "inconclusive"


def test_paired_segments_that_sit_apart_are_the_unit_of_evidence():
    """8 segments (fresh pairs of servers) of the same code whose clusters sit apart for their life:
    offsets of -5% to +20% that average +6%. Taken as 120 independent pairs the offsets look like a
    significant 6% regression; with the segment as the unit (their means differ far beyond the pairs'
    1% spread) the interval spans the offsets' uncertainty and nothing is flagged. Segments that do
    not differ are pooled: the same verdict and interval as one segment."""
    offsets = np.log([1.20, 0.95, 1.15, 0.97, 1.12, 1.00, 1.10, 1.02])
    sizes = [15] * 8
    before = [[1.0] for _ in range(120)]
    apart = [[math.exp(offsets[k] + RNG.normal(0, 0.01))] for k, size in enumerate(sizes) for _ in range(size)]
    as_pairs = verdict.decide_paired(before, apart, 1.05)
    assert as_pairs.verdict == "slower" and as_pairs.low > 1, as_pairs
    by_segment = verdict.decide_paired(before, apart, 1.05, sizes)
    assert by_segment.verdict == "inconclusive" and by_segment.low < 1 < 1.05 < by_segment.ratio < by_segment.high
    assert math.log(by_segment.high / by_segment.low) > 3 * math.log(as_pairs.high / as_pairs.low)
    spread = RNG.normal(0.02, 0.03, 15)  # every segment the same pairs, in its own order: no offsets
    together = [[math.exp(v)] for _ in sizes for v in RNG.permutation(spread)]
    assert verdict.decide_paired(before, together, 1.05, sizes) == verdict.decide_paired(before, together, 1.05)
    with pytest.raises(ValueError, match="segments of 119 pairs for 120"):
        verdict.decide_paired(before, together, 1.05, [15] * 7 + [14])


def test_paired_segments_keep_the_false_alarm_rate_near_its_level():
    """The rule's level, on A/A draws whose segments sit apart by twice what a segment's pairs
    explain (as the journey's did): judged as independent pairs, about 20% are flagged at the 1%
    level; by decide_paired with the segments, near 1% (sometimes-pool: at most a few percent)."""
    segments, per, draws = 8, 15, 300
    sd_pair = 0.02
    sd_segment = 2 * sd_pair / math.sqrt(per)
    before = [[1.0] for _ in range(segments * per)]
    alarms = {"pairs": 0, "segments": 0}
    for _ in range(draws):
        offsets = RNG.normal(0, sd_segment, segments)
        after = [[math.exp(o + RNG.normal(0, sd_pair))] for o in offsets for _ in range(per)]
        for how, sizes in (("pairs", None), ("segments", [per] * segments)):
            alarms[how] += verdict.decide_paired(before, after, 1.0, sizes).verdict in ("slower", "faster")
    assert alarms["pairs"] > 0.10 * draws and alarms["segments"] < 0.04 * draws, alarms


def test_paired_blocks_need_enough_pairs():
    drift = np.ones(verdict.MIN_PAIRS - 1)  # the signed-rank test could not reach p < 0.01
    assert verdict.decide_paired(drifting_blocks(1.0, drift), drifting_blocks(2.0, drift), 1.05).verdict \
        == "too few samples"
    assert verdict.decide_paired([], [], 1.05).verdict == "no statistics"


def test_a_table_of_many_benchmarks_is_judged_together():
    """39 benchmarks of the same code: one at p 0.005 is what chance gives a table, not a change; a
    change at p 1e-6 stays flagged."""
    chance = verdict.Decision("slower", 1.2, 1.01, 1.4, 0.005, 0.001, 1.05)
    clear = verdict.Decision("slower", 2.0, 1.9, 2.1, 1e-6, 1e-6, 1.05)
    same = verdict.Decision("same", 1.0, 0.99, 1.01, 0.5, 0.5, 1.05)
    judged = verdict.adjusted([chance, clear] + [same] * 37)
    assert judged[0].verdict == "inconclusive" and judged[0].p > chance.p
    assert judged[1].verdict == "slower" and judged[1].p < verdict.ALPHA
    assert [d.verdict for d in judged[2:]] == ["same"] * 37
    assert verdict.adjusted([chance])[0].verdict == "slower"  # alone, nothing to adjust for


def test_the_headline_counts_outcomes_and_says_every_time_it_knows():
    """The line a CI job posts: counted outcomes (the baselines' left out), the time measuring and of
    it starting and stopping clusters (when known), the build's even when nothing was to build."""
    from dask_bench.host import paired

    slower = verdict.Decision("slower", 1.2, 1.1, 1.3, 1e-6, 1e-6, 1.05)
    same = verdict.Decision("same", 1.0, 0.99, 1.01, 0.5, 0.5, 1.05)
    decisions = {"futures.SubmitLatency.time_map_gather('threads')": slower,
                 "futures.SubmitLatency.time_submit_result('threads')": same,
                 "baselines.SubmitLatency.time_submit_result": slower}
    line = paired.headline(decisions, "vm", {"measured": 245.0, "fixed": 40.0, "built": 0.4})
    assert line == ("**1 slower**, 0 faster, 0 inconclusive, 1 same (measured in 4 min 5 s, 0 min 40 s of it "
                    "starting and stopping clusters, built in 0 min 0 s, machine vm)"), line
    assert "starting" not in paired.headline(decisions, "vm", {"measured": 245.0, "fixed": 0.0})


# -- fresh_keys --------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: da.arange(1000, chunks=100).sum(),
    lambda: db.from_sequence(range(100), npartitions=4).map(lambda x: x * 2).filter(lambda x: x % 3).sum(),
    lambda: dask.delayed(sum)([dask.delayed(abs)(-i) for i in range(5)]),
], ids=["array", "bag", "delayed"])
def test_fresh_keys_renames_every_key_and_keeps_the_result(make):
    collection = make()
    fresh = workloads.fresh_keys(collection)
    (optimized,) = dask.optimize(collection)
    old, new = set(dict(optimized.__dask_graph__())), set(dict(fresh.__dask_graph__()))
    assert len(new) == len(old) and not (old & new), "every key is renamed"
    assert fresh.compute(scheduler="sync", optimize_graph=False) == collection.compute(scheduler="sync")
    assert workloads.fresh_keys(collection).__dask_keys__() != fresh.__dask_keys__(), "new keys every call"


def test_fresh_keys_keeps_what_it_is_told_to_keep():
    """How persisted data is reused: its keys stay, everything computed from it is renamed."""
    start = dask.delayed(abs)(-1, dask_key_name="start")
    total = dask.delayed(sum)([start, 2], dask_key_name="total")
    graph = dict(workloads.fresh_keys(total, keep={"start"}).__dask_graph__())
    assert "start" in graph and "total" not in graph and len(graph) == 2


# -- the results reader ------------------------------------------------------------------------

COMMITTED = REPO / "results"


def committed_machine() -> str:
    return next(p.parent.name for p in COMMITTED.glob("*/machine.json"))


def test_the_reader_gives_samples_versions_and_medians_of_committed_results():
    machine = committed_machine()
    found = runs(COMMITTED, machine)
    assert found and all(r.machine == machine for r in found)
    measured = [m for r in found for m in r.measurements.values() if m.samples]
    assert measured, "committed results carry samples (--record-samples)"
    for m in measured:
        assert m.value == pytest.approx(float(np.median(m.samples)), rel=1e-6) and m.version


def test_a_corrupt_result_file_is_one_clear_error(tmp_path):
    machine = committed_machine()
    copy = tmp_path / "results"
    shutil.copytree(COMMITTED, copy)
    victim = next(p for p in (copy / machine).glob("*.json") if p.name != "machine.json")
    victim.write_text(victim.read_text()[:100])
    with pytest.raises(ResultsError, match=f"{victim.name} is not a readable asv result.*git checkout"):
        runs(copy, machine)


def test_an_unknown_machine_names_the_ones_there():
    from dask_bench.host.results import require_machine

    with pytest.raises(ResultsError, match="set MACHINE=<name>") as info:
        require_machine(COMMITTED, "no-such-machine")
    assert committed_machine() in str(info.value)


# -- identity: what the version of a benchmark covers --------------------------------------------

def test_a_benchmarks_version_covers_shared_code_and_the_data_preset(tmp_path, monkeypatch):
    from dask_bench import identity

    before = identity._shared_identity()
    assert identity.normalized("x = 1  # comment\n") == identity.normalized("x = 1\n"), "comments do not count"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"datasets": {"random": {"preset": "tiny", "seed": 1}}}))
    monkeypatch.setenv("DASK_BENCH_DATA_DIR", str(tmp_path))
    assert identity._shared_identity() != before, "another data preset is another version"
    manifest.write_text(json.dumps({"datasets": {"random": {"preset": "tiny", "seed": 2}}}))
    assert identity._shared_identity() != before


def test_a_benchmarks_policy_is_not_part_of_its_version_and_its_code_is():
    from dask_bench import identity

    source = (REPO / "benchmarks" / "futures.py").read_text()
    anchor = "    def time_dependency_chain(self, workers):\n"
    settings = "    time_map_gather.paired_blocks = 999\n    factor = 1.5\n    calibration = {'processes': 'x'}\n\n"
    assert identity.normalized(source.replace(anchor, settings + anchor)) == identity.normalized(source)
    timed = source.replace("workloads.map_gather(self.client, MAP_TASKS)", "workloads.map_gather(self.client, 10)")
    assert timed != source and identity.normalized(timed) != identity.normalized(source)
    assert identity.normalized(source.replace("    number = 10\n", "    number = 5\n")) != identity.normalized(source)
    shared = source.index("QUICK_CALIBRATIONS = (")  # a name only policy attributes use is policy too
    more = source[:shared] + "QUICK_CALIBRATIONS = ('another.json',)\n" + source[shared:].split("\n", 5)[5]
    assert more != source and identity.normalized(more) == identity.normalized(source)
    both = source.replace("    time_map_gather.factor = 1.05\n", "    time_map_gather.factor = MAP_TASKS\n")
    assert both != source  # a name the timed code uses too stays in its version
    assert identity.normalized(both.replace("MAP_TASKS = workloads.MAP_TASKS", "MAP_TASKS = 10")) != identity.normalized(both)


def test_a_benchmarks_version_covers_the_dask_bench_modules_it_imports(monkeypatch):
    import benchmarks.journey as bench_journey
    from dask_bench import identity, journey

    names = [name for name, _ in identity._own_sources(bench_journey)]
    assert names == ["benchmarks.journey", "dask_bench.journey"]
    before = identity.version_of(bench_journey.TaskJourney)
    real = identity.inspect.getsource
    monkeypatch.setattr(identity.inspect, "getsource",
                        lambda obj: real(obj) + ("\nPHASES = ()\n" if obj is journey else ""))
    assert identity.version_of(bench_journey.TaskJourney) != before, "a change in dask_bench/journey.py is a new version"


# -- the calibration's injections --------------------------------------------------------------

def test_each_injection_site_exists_in_the_installed_distributed():
    import distributed

    root = Path(distributed.__file__).parent.parent
    for site in SITES.values():
        source = (root / site.path).read_text()
        injected = inject(source, site.function, site.statement.format(seconds=0.001))
        assert injected.count("injected by dask_bench.host.calibrate") == 1
        compile(injected, site.path, "exec")  # still valid Python


def test_sites_none_is_a_calibration_of_a_a_pairs_only():
    from dask_bench.host.calibrate import CalibrationError, parse_injections

    assert parse_injections("none", "1") == []
    assert parse_injections("client", "0.25,1") == [("client", 0.25), ("client", 1.0)]
    with pytest.raises(CalibrationError, match="unknown site nowhere: choose from client, scheduler, worker, or none"):
        parse_injections("nowhere", "1")


def test_injection_goes_after_a_multiline_signature():
    source = "class A:\n    def f(\n        self, x: int = (1),\n    ) -> int:\n        '''doc'''\n        return x\n"
    namespace = {}
    exec(inject(source, "f", "self.hit = True"), namespace)
    a = namespace["A"]()
    assert a.f(3) == 3 and a.hit


# -- the history page: verdicts from the paired chain only ---------------------------------------

def history_runs(tmp_path, medians: dict, started=None) -> list:
    from dask_bench.host.results import Measurement, Run

    ordered = []
    for i in range(len(next(iter(medians.values())))):
        run = Run(tmp_path / f"r{i}", "m", str(i) * 40, "env", i, {})
        for name, values in medians.items():
            samples = timings(values[i], 30, 0.02)
            run.measurements[(name, ())] = Measurement(float(np.median(samples)), tuple(samples), "v1",
                                                       started[i] if started else None)
        ordered.append(run)
    return ordered


def test_the_history_page_marks_only_the_paired_verdicts_and_draws_asv_timings_unmarked(tmp_path, monkeypatch):
    """asv's timings step 1.3x between r1 and r2 (one sitting): drawn, never flagged; the page's
    only marks are the paired chain's (none compared yet here)."""
    from dask_bench.host import chain, report

    monkeypatch.setattr(chain, "releases", lambda: ["r0", "r1", "r2", "r3"])
    ordered = history_runs(tmp_path, {"futures.SubmitLatency.time_submit_result": [1.0, 1.0, 1.3, 1.3],
                                      "baselines.SubmitLatency.time_submit_result": [5.0] * 4},
                           [1.8e12 + i * 60_000 for i in range(4)])
    empty = tmp_path / "no-pairs"
    empty.mkdir()
    text = report.history_page(ordered, ["r0", "r1", "r2", "r3"], tmp_path, "m", empty).read_text()
    assert "No release has been compared with its predecessor side by side yet" in text
    assert "r1 &rarr; r2" not in text and "step" not in text.split("Absolute timings")[1]
    assert "1 sitting(s)" in text and (tmp_path / "history-futures.SubmitLatency.png").stat().st_size > 5000
    assert "history-baselines" not in text  # the baselines, not counted, are not drawn


def test_the_same_releases_measured_in_two_sittings_are_never_joined(tmp_path):
    """r2 and r3 measured two days after r0 and r1: their points are two runs of lines, never one,
    and the page names both sittings."""
    from dask_bench.host.report import history_page, series, sittings

    day, one = 24 * 3600 * 1000, [1.8e12 + i * 60_000 for i in range(4)]
    apart = history_runs(tmp_path, {"a.B.time_x": [1.0, 1.0, 1.3, 1.3]}, one[:2] + [t + 2 * day for t in one[2:]])
    assert [[i for i, _ in run] for run in sittings(series(apart)["a.B.time_x"])] == [[0, 1], [2, 3]]
    together = history_runs(tmp_path, {"a.B.time_x": [1.0, 1.0, 1.3, 1.3]}, one)
    assert [[i for i, _ in run] for run in sittings(series(together)["a.B.time_x"])] == [[0, 1, 2, 3]]
    assert "in 2 sitting(s)" in history_page(apart, ["r0", "r1", "r2", "r3"], tmp_path, "m", tmp_path).read_text()


def test_the_janitor_survives_modules_of_the_suite_named_like_the_standard_librarys(tmp_path, monkeypatch):
    """The janitor runs as a script from its own directory, where a module named like one of the
    standard library's (profile.py, say) must not shadow it: a janitor that dies at start leaves every
    scratch directory behind. Here its script sits beside modules that end any process importing them."""
    import time

    from dask_bench import janitor as module
    from dask_bench.janitor import Janitor

    beside = tmp_path / "script"
    beside.mkdir()
    shutil.copy(module.__file__, beside / "janitor.py")
    for name in ("os", "shutil", "signal", "subprocess", "tempfile", "psutil", "profile"):
        (beside / f"{name}.py").write_text("raise SystemExit(3)\n")
    monkeypatch.setattr(module, "__file__", str(beside / "janitor.py"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    janitor = Janitor()
    time.sleep(1.0)
    assert janitor._process.poll() is None, "the janitor died at start"
    janitor.watch_children()
    janitor.release()
    janitor._process.wait(20)
    assert not Path(janitor.directory).exists()


def test_the_report_stacks_the_phases_of_a_journey_per_release(tmp_path):
    from dask_bench.journey import PHASES
    from dask_bench.host.report import JOURNEY, plot_journey
    from dask_bench.host.results import Measurement, Run

    ordered = []
    for i, release in enumerate(["r0", "r1"]):
        run = Run(tmp_path / release, "m", str(i) * 40, "env", i, {})
        for k, phase in enumerate(PHASES):
            for workload in ("submit", "map"):
                value = (k + 1) * 1e-4 * (2 if release == "r1" and phase == "scheduler" else 1)
                run.measurements[(JOURNEY, (f"'{workload}'", f"'{phase}'"))] = Measurement(value, (value,) * 5, "v")
        ordered.append(run)
    table = plot_journey(ordered, ["r0", "r1"], tmp_path / "journey.png", "m")
    assert (tmp_path / "journey.png").stat().st_size > 5000
    assert table.count("<tr>") == 5 and "worker_queue" in table
    assert "<td>0.400</td>" in table and "<td>2.800</td>" in table  # r1's scheduler phase doubled; the sum


# -- profiles: distributed's sampled profile per function --------------------------------------

def test_sampled_time_per_function_counts_self_and_recursion_once():
    from dask_bench.profile_run import flatten

    def node(name, count, *children):
        return {"count": count, "description": {"name": name, "filename": "f.py", "line_number": 1},
                "children": {f"{name}-{i}": c for i, c in enumerate(children)}}

    # run (10 samples) -> walk (8) -> walk (5, recursion) ; run -> idle (2)
    tree = {"count": 10, "children": {"r": node("run", 10, node("walk", 8, node("walk", 5)), node("idle", 2))}}
    rows = {r["function"].split(" ")[0]: r for r in flatten(tree, interval=0.01, calls=2)}
    assert rows["walk"]["function"] == "walk (f.py)"
    assert rows["walk"]["self"] == (3 + 5) * 0.01 / 2 and rows["walk"]["total"] == 8 * 0.01 / 2
    assert rows["run"]["self"] == 0 and rows["run"]["total"] == 10 * 0.01 / 2
    assert rows["idle"]["self"] == rows["idle"]["total"] == 2 * 0.01 / 2


def test_each_journey_sample_is_the_next_journey_not_the_same_one_again():
    from benchmarks.journey import TaskJourney
    from dask_bench.journey import PhaseClock

    journeys = {"submit": [{"execution": 0.001 * (i + 1)} for i in range(3)]}
    bench, got = TaskJourney(), []
    for _ in range(4):  # asv: setup (if any), then one timed call per sample
        if hasattr(bench, "setup"):
            bench.setup(journeys, "submit", "execution")
        before = PhaseClock.now()
        bench.time_phase(journeys, "submit", "execution")
        got.append(round(PhaseClock.now() - before, 6))
    assert got == [0.001, 0.002, 0.003, 0.001]


def test_paired_servers_measure_one_benchmark_or_every_phase_of_a_journey_at_once():
    from dask_bench.drive import benchmarks, pairable, units
    from dask_bench.host.paired import blocks_needed

    entries = benchmarks()
    phases = [label for label in entries if label.startswith("journey.TaskJourney.time_phase('submit'")]
    map_phases = [label for label in entries if label.startswith("journey.TaskJourney.time_phase('map'")]
    submit = "futures.SubmitLatency.time_submit_result('threads')"
    chain = "futures.SubmitLatency.time_dependency_chain('threads')"
    assert len(phases) == len(map_phases) == 7
    # one journey serves every phase of its workload; each workload is a unit of its own, whatever
    # the order the labels come in, so the slow map journey's blocks do not hold up the round trip's
    mixed = [x for pair in zip(map_phases, phases) for x in pair]
    assert units([submit, *mixed, chain]) == [[submit], map_phases, phases, [chain]]
    assert blocks_needed(map_phases) > blocks_needed(phases)
    assert all(pairable(label, entries[label]) for label in (submit, *phases))
    assert not any(pairable(label, entries[label]) for label in entries if ".track_" in label)
    # a replaying class without a way to measure afresh is refused, whatever its method's name
    cls, method, params = entries[phases[0]]
    replay_only = type("ReplayOnly", (), {"timer": cls.timer})
    assert not pairable(phases[0], (replay_only, method, params))


def test_the_committed_history_is_current_for_the_suite_as_it_is(tmp_path, monkeypatch):
    """Every benchmark of the default selection has, for the newest committed release, a successful
    result of the version the suite defines now (as it lists them, in a process of its own, for the
    data `make data` generates): an edit that changes what is timed without re-measuring fails here."""
    from data_prep.manifest import GENERATOR_VERSION
    from data_prep.presets import DATASETS, DEFAULT_PRESET, DEFAULT_SEED, PRESETS
    from dask_bench.host.revisions import listing
    from dask_bench.policy import selection_regex

    # a benchmark's version covers the data preset, read from the manifest: the default data's
    (tmp_path / "manifest.json").write_text(json.dumps({"datasets": {
        name: {"preset": DEFAULT_PRESET, "seed": DEFAULT_SEED, "generator_version": GENERATOR_VERSION,
               "params": PRESETS[DEFAULT_PRESET].params(name)} for name in DATASETS}}))
    monkeypatch.setenv("DASK_BENCH_DATA_DIR", str(tmp_path))
    versions = {label.split("(")[0]: version for label, version in
                listing(Path(sys.executable), selection_regex("default"))["versions"].items()}
    assert "futures.SubmitLatency.time_submit_result" in versions and not any("Large" in n for n in versions)
    machine = committed_machine()
    newest = max(runs(COMMITTED, machine), key=lambda r: r.date)
    stored = {name: m.version for (name, _), m in newest.measurements.items() if m.ok}
    stale = sorted(name for name, version in versions.items() if stored.get(name) != version)
    assert not stale, f"the committed results are stale for {stale}"


def test_py_spy_samples_per_function_line_up_across_environments(tmp_path):
    from dask_bench.host.profile import spy_functions
    from dask_bench.profile_run import shorten_speedscope

    frames = [{"name": "run", "file": "/envs/a/lib/python3.11/site-packages/distributed/worker.py"},
              {"name": "select", "file": "/usr/lib/python3.11/selectors.py"}]
    speedscope = {"shared": {"frames": frames},
                  "profiles": [{"samples": [[0, 1], [0, 1], [0]], "weights": [0.005, 0.005, 0.005]}]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(speedscope))
    shorten_speedscope(path)  # in the environment that recorded it
    rows = {r["function"]: r for r in spy_functions(path, calls=3)}
    assert set(rows) == {"run (distributed/worker.py)", "select (selectors.py)"}
    assert rows["select (selectors.py)"]["self"] == pytest.approx(0.010 / 3)
    assert rows["run (distributed/worker.py)"]["self"] == pytest.approx(0.005 / 3)
    assert rows["run (distributed/worker.py)"]["total"] == pytest.approx(0.015 / 3)


@pytest.mark.slow  # real benchmark servers
def test_paired_blocks_kept_segment_by_segment_resume_only_under_the_same_key(tmp_path, capsys):
    """paired.Progress: a run stopped after its first of 3 segments (its file as that run left it)
    resumes with the 2 segments missing, the first's blocks reused as they were; another key
    (another commit, or other code) reuses nothing; a unit that fails keeps nothing."""
    import sys

    from dask_bench.host import paired

    works = "baselines.SubmitLatency.time_submit_result"  # a real server: a warm process pool
    python = Path(sys.executable)
    key = {"commits": ["c1", "c2"], "code": "digest"}
    path = tmp_path / "blocks.json"
    whole = paired.measure((python, python), [works], 6, 0.0, tmp_path, segments=3,
                           progress=paired.Progress(path, key))
    assert whole[works].segments == (2, 2, 2) and json.loads(path.read_text())["units"][works]["segments"] == 3
    # the file as it stood after the first segment (Progress.keep's own write)
    first = paired.Progress(tmp_path / "first.json", key)
    first.keep([works], 1, [[{works: block} for block in side[:2]] for side in whole[works][:2]])
    shutil.copy(tmp_path / "first.json", path)
    logs = {log: log.stat().st_mtime_ns for log in tmp_path.glob("*.log")}
    capsys.readouterr()
    resumed = paired.measure((python, python), [works], 6, 0.0, tmp_path, segments=3,
                             progress=paired.Progress(path, key))
    assert "1 of 3 segments measured by an earlier run of the same code and options, reused" in capsys.readouterr().out
    assert resumed[works].before[:2] == whole[works].before[:2] and len(resumed[works].before) == 6
    assert resumed[works].before[2:] != whole[works].before[2:]  # measured again: other samples
    rerun = {log.name for log, mtime in logs.items() if log.stat().st_mtime_ns != mtime}
    assert rerun == {f"{side}-{paired.log_stem(works)}-{n}.log" for side in ("base", "head") for n in (2, 3)}
    # another key, other segments, or a file cut short: nothing of the file is reused
    assert paired.Progress(path, key).resume([works], (2, 2, 2))[0] == 3
    assert paired.Progress(path, {**key, "code": "other"}).resume([works], (2, 2, 2)) == (0, [[], []])
    assert paired.Progress(path, key).resume([works], (3, 3))[0] == 0
    tampered = json.loads(path.read_text())
    tampered["units"][works]["blocks"][1][0][works] = ["0.1"]  # a sample that is not a number
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    assert paired.Progress(tmp_path / "tampered.json", key).resume([works], (2, 2, 2))[0] == 0
    shutil.copy(path, tmp_path / "whole.json")
    path.write_text((tmp_path / "whole.json").read_text()[:200])
    assert paired.Progress(path, key).resume([works], (2, 2, 2))[0] == 0
    shutil.move(tmp_path / "whole.json", path)
    # a unit that fails keeps nothing, and discard leaves no file behind
    failing = paired.Progress(tmp_path / "failing.json", key)
    measured, failed = paired.measure_all((python, python), [["no.such.benchmark"]], 2, 0.0, tmp_path,
                                          segments=1, progress=failing)
    assert set(failed) == {"no.such.benchmark"} and not (tmp_path / "failing.json").exists()
    paired.Progress(path, key).discard()
    assert not path.exists() and not list(tmp_path.glob("*.partial"))


def test_paired_says_when_its_selection_holds_the_load_benchmarks():
    """BENCH=. selects make load's benchmarks too: paired says so before measuring, naming them and
    the -b that leaves them out (a regex that indeed selects every other benchmark and none of them)."""
    from dask_bench.drive import benchmarks, pairable, units
    from dask_bench.host import paired

    everything = units([label for label, entry in benchmarks().items() if pairable(label, entry)])
    note = paired.load_note(everything)
    assert note and "futures.LargeMap.time_map_gather" in note and "as_completed.LargeResubmit.time_resubmit" in note
    others = re.search(r"-b '([^']+)'", note).group(1)
    labels = [label for unit in everything for label in unit]
    assert {label for label in labels if re.search(others, label)} == \
        {label for label in labels if not label.startswith(("futures.LargeMap.", "as_completed.LargeResubmit."))}
    assert paired.load_note(units([label for label in labels if re.search(others, label)])) is None


@pytest.mark.slow  # real benchmark servers
def test_a_paired_unit_that_fails_on_one_side_is_a_row_and_the_others_are_still_measured(tmp_path, capsys):
    """The paired verdict: a server that cannot start on HEAD makes its benchmark "failing" (counted, exit 1),
    on BASE "fixed", on both "failed"; the next unit is measured all the same."""
    import sys

    from dask_bench.host import paired

    works = "baselines.SubmitLatency.time_submit_result"  # a real server: a warm process pool
    broken = Path("/bin/false")  # a "Python" that ends at once, as an environment whose server crashes
    python = Path(sys.executable)
    for pythons, expected in (((python, broken), "failing"), ((broken, python), "fixed"), ((broken, broken), "failed")):
        measured, failed = paired.measure_all(pythons, [[works]], 2, 0.0, tmp_path)
        assert measured == {} and set(failed) == {works}
        assert [error is not None for error in failed[works]] == [pythons[0] == broken, pythons[1] == broken]
        assert paired.judge(measured, failed, 1.05)[works].verdict == expected
    # one failed unit does not stop the next: two units, the first broken on HEAD
    measured, failed = paired.measure_all((python, python), [["no.such.benchmark"], [works]], 3, 0.0, tmp_path,
                                          segments=1)
    assert set(failed) == {"no.such.benchmark"} and "no benchmark" in failed["no.such.benchmark"][1]
    before, after, segments, *_ = measured[works]
    assert segments == ()  # one segment
    assert len(before) == len(after) == 3 and all(len(block) >= 1 for block in before + after)
    assert all(0 < s < 1 for block in before + after for s in block)
    decisions = paired.judge(measured, failed, 1.05)
    assert decisions["no.such.benchmark"].verdict == "failed" and decisions[works].verdict != "failed"
    text = paired.render(decisions, measured, "A", "B", 1.05, None, 0.0)
    (row,) = [line for line in text.splitlines() if "no.such.benchmark" in line]
    assert "| failed | failed |" in row
    # in segments: the blocks split among fresh pairs of servers, each with its own log
    (tmp_path / "segments").mkdir()
    segmented = paired.measure((python, python), [works], 5, 0.0, tmp_path / "segments", segments=2)
    assert [len(side) for side in segmented[works][:2]] == [5, 5] and segmented[works].segments == (3, 2)
    # --judge: the blocks paired.json keeps, judged again without measuring (segments kept, the
    # status as measured: 2 for the benchmark that failed on both sides), a wrong file one line, exit 2
    both = {**measured, **segmented}
    path = tmp_path / "paired.json"
    path.write_text(json.dumps(paired.stored(paired.judge(both, failed, 1.05), both, failed, ["c1", "c2"], "A", "B",
                                             1.05, 0.0)))
    again, kept, _, base, head, _, _ = paired.rejudge(path, 1.05, None)
    assert kept[works].segments == (3, 2) and (base, head) == ("A", "B")
    assert again == paired.judge(both, failed, 1.05)
    assert paired.main(["--judge", str(path)]) == 2
    capsys.readouterr()
    assert paired.main(["--judge", str(tmp_path / "segments")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not the JSON a comparison wrote" in error
    assert paired.main(["A", "B", "--judge", str(path)]) == 2
    # an option that measuring would use is refused with --judge, not silently ignored
    capsys.readouterr()
    assert paired.main(["--judge", str(path), "--blocks", "10", "-b", "x"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--bench, --blocks would be ignored" in error, error
    assert paired.main(["--judge", str(path), "--fixed"]) == 2  # named as given, not as it resolves
    assert ": --fixed would be ignored" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "segments").iterdir()) == [
        f"{side}-{works}-{segment}.log" for side in ("base", "head") for segment in (1, 2)]


def test_paired_judges_each_benchmark_with_its_own_minimum_effect_unless_one_is_given():
    """An 8% slowdown, clear in the pairs: slower for map/gather, whose policy's factor is 1.05, not
    for a journey phase, whose factor is the default 1.10; --factor sets one for all."""
    from dask_bench.host import paired

    drift = RNG.lognormal(0, 0.15, 30)
    blocks = (drifting_blocks(10e-3, drift), drifting_blocks(10.8e-3, drift))
    family, phase = "futures.SubmitLatency.time_map_gather('threads')", "journey.TaskJourney.time_phase('map', 'submit')"
    assert (paired.factor_of(family), paired.factor_of(phase)) == (1.05, 1.10)
    judged = paired.judge({family: blocks, phase: blocks}, {})
    assert judged[family].verdict == "slower" and judged[phase].verdict != "slower", judged
    assert all(d.verdict == "slower" for d in paired.judge({family: blocks, phase: blocks}, {}, 1.05).values())
    assert paired.describe_factor(None) == "each benchmark's own factor"
    # the journey's offsets between pairs of servers vary; a benchmark without a setting gets one segment
    chain = "futures.SubmitLatency.time_dependency_chain('threads')"
    assert paired.segments_needed([phase]) > 1 == paired.segments_needed([chain])


def test_a_paired_run_key_changes_with_the_code_the_commits_and_the_options(tmp_path, monkeypatch):
    """paired.run_key, what kept blocks are reused for (make paired and calibrate --paired): another
    commit, unit, blocks, segments, block seconds, asv configuration, or looks (--fixed where the
    policy says sequential) is another key, and so is a
    change to the code the servers import (a copy of the tree with one workload changed)."""
    from dask_bench.host import paired

    configs = [tmp_path / "base.json", tmp_path / "head.json"]
    for config in configs:
        config.write_text('{"matrix": {}}')
    unit = [["futures.SubmitLatency.time_submit_result('threads')"]]
    args = (["a" * 40, "b" * 40], configs, unit, None, 0.5, None)
    key = paired.run_key(*args)
    assert key == paired.run_key(*args) and key["blocks"] == [paired.blocks_needed(unit[0])]
    for changed in ((["a" * 40, "c" * 40], *args[1:]), (*args[:2], [["errors.ErrorPath.time_error_surfaces"]], *args[3:]),
                    (*args[:3], 60, *args[4:]), (*args[:4], 0.2, None), (*args[:5], 4), (*args, False)):
        assert paired.run_key(*changed) != key, changed
    configs[1].write_text('{"matrix": {"numpy": []}}')
    assert paired.run_key(*args) != key
    configs[1].write_text('{"matrix": {}}')
    tree = tmp_path / "tree"
    for folder in ("benchmarks", "dask_bench", "data_prep"):
        shutil.copytree(REPO / folder, tree / folder, ignore=shutil.ignore_patterns("host", "__pycache__"))
    monkeypatch.setattr(paired, "REPO_ROOT", tree)
    assert paired.run_key(*args) == key
    with open(tree / "dask_bench" / "workloads.py", "a") as workloads_source:
        workloads_source.write("\n# changed\n")
    assert paired.run_key(*args)["code"] != key["code"]


def test_the_detection_summary_takes_the_calibration_each_policy_names_at_todays_defaults(tmp_path, capsys):
    """calibrate --summary: per label the paired calibration its policy names, when it measured the
    label on this machine with the blocks, segments and looks its policy gives now; one at other
    blocks or segments, measured to the end where the policy stops once settled, of another machine
    or of make compare does not count, so a label whose defaults changed shows uncalibrated."""
    from dask_bench.host import calibrate
    from dask_bench.host.paired import blocks_needed, segments_needed, sequential_of

    fast, slow = "futures.SubmitLatency.time_submit_result('threads')", "bags.AccountsBag.time_alice_mean(1)"
    segments = segments_needed([fast])
    assert segments not in (1, 4) and segments_needed([slow]) == 1  # the test's premise

    def entry(label, effect, alarms=0, seconds=(None,) * 3):
        return {"benchmark": label, "aa": [{"verdict": "same", **({"seconds": t} if t else {})} for t in seconds],
                "false_alarms": alarms, "injections": {}, "detectable_effect": effect, "goal": calibrate.goal_of(label)}

    def write(name, date, entries, blocks, segments, machine="vm", mode="paired", sequential=False):
        (tmp_path / name).write_text(json.dumps({"mode": mode, "machine": machine, "date": date, "blocks": blocks,
                                                 "segments": segments, "sequential": sequential,
                                                 "matrix": entries}))
        return tmp_path / name

    assert sequential_of([fast]) and not sequential_of([slow])  # the test's premise
    both = write("both.json", "2026-11-01T00:00:00+00:00", [entry(fast, 0.04, seconds=(100, 130, 400)), entry(slow, 0.12)],
                 {fast: blocks_needed([fast]), slow: blocks_needed([slow])}, {fast: segments, slow: 1},
                 sequential={fast: True, slow: False})
    fixed = write("fixed.json", "2026-11-02T00:00:00+00:00", [entry(fast, 0.01)], blocks_needed([fast]), segments)
    other_segments = write("other-segments.json", "2026-11-03T00:00:00+00:00", [entry(fast, 0.01)],
                           blocks_needed([fast]), 4)
    other_machine = write("other-machine.json", "2026-11-04T00:00:00+00:00", [entry(slow, 0.01)],
                          blocks_needed([slow]), None, machine="laptop")
    unpaired = write("unpaired.json", "2026-11-05T00:00:00+00:00", [entry(slow, 0.02)], blocks_needed([slow]), None,
                     mode=None)
    error = "errors.ErrorPath.time_error_surfaces"
    got = calibrate.coverage({fast: both, slow: both, error: None}, "vm")
    assert [(e["file"], e["detectable_effect"]) for e in got[:2]] == [("both.json", 0.04), ("both.json", 0.12)]
    assert got[2] is None
    for path, label in ((fixed, fast), (other_segments, fast), (other_machine, slow), (unpaired, slow)):
        assert calibrate.coverage({label: path}, "vm") == [None], path.name
    text = calibrate.render_coverage([fast, slow, error], got, "vm")
    assert "**2 of 3** calibrated, **1** meet their goal, **0** A/A false alarms" in text  # 12% misses 10%
    assert f"0 false alarm(s) in 6 A/A verdicts (2 benchmarks): the false-alarm rate per benchmark and pair is " \
           f"below {1 - 0.05 ** (1 / 6):.1%}" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert "4.0%" in rows[fast] and "yes (≤5%)" in rows[fast] and "both.json (2026-11-01)" in rows[fast]
    assert "12.0%" in rows[slow] and "no (≤10%)" in rows[slow]
    assert "not calibrated at these defaults" in rows[error]
    # how long its A/A verdicts took (median, worst), where the calibration recorded it, and the sums
    assert "2 min 10 s (6 min 40 s)" in rows[fast] and "min" not in rows[slow]
    assert ("the quick selection (`./compare`'s default): 2 min 10 s (worst 6 min 40 s) over 1 of 1 units; every "
            "counted benchmark: 2 min 10 s (worst 6 min 40 s) over 1 of 3 units, 2 calibrated before times were "
            "recorded") in text, text
    # A/A runs that measured several units together: each run's units summed, beside the sum of their worsts
    gather = "futures.SubmitLatency.time_map_gather('threads')"
    runs = write("runs.json", "2026-11-07T00:00:00+00:00", [entry(fast, 0.04, seconds=(100, 300, 60)),
                                                            entry(gather, 0.04, seconds=(50, 20, 200))],
                 {fast: blocks_needed([fast]), gather: blocks_needed([gather])},
                 {fast: segments, gather: segments_needed([gather])}, sequential={fast: True, gather: True})
    text = calibrate.render_coverage([fast, gather], calibrate.coverage({fast: runs, gather: runs}, "vm"), "vm",
                                     [[fast], [gather]])
    assert ("the quick selection (`./compare`'s default): 2 min 30 s (worst 8 min 20 s) over 2 of 2 units; the 3 A/A "
            "runs that measured all 2 together: 4 min 20 s (slowest 5 min 20 s)") in text, text
    # two calibrations at the same plan pool their A/A pairs (the worst pair's effect); one at another plan
    # among them leaves the label uncalibrated
    more = write("more.json", "2026-11-06T00:00:00+00:00", [entry(slow, 0.09, alarms=1, seconds=(50, 70))],
                 blocks_needed([slow]), 1)
    pooled = calibrate.coverage({slow: [both, more], fast: [both, other_segments]}, "vm")
    assert pooled[1] is None
    assert (len(pooled[0]["aa"]), pooled[0]["false_alarms"], pooled[0]["detectable_effect"]) == (5, 1, 0.12)
    assert "both.json (2026-11-01) + more.json (2026-11-06)" in calibrate.render_coverage([slow], pooled[:1], "vm")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(calibrate.CalibrationError, match="broken.json: not a calibration JSON"):
        calibrate.coverage({fast: broken}, "vm")
    no_date = write("no-date.json", None, [entry(fast, 0.04)], blocks_needed([fast]), segments, sequential=True)
    no_date.write_text(no_date.read_text().replace('"date": null, ', ""))
    with pytest.raises(calibrate.CalibrationError, match="no-date.json: not a paired calibration's JSON"):
        calibrate.coverage({fast: no_date}, "vm")
    for argv, needle in ((["--summary", "2026.8.0"], "give no revision"), (["--summary", "--aa", "2"], "--aa"),
                         (["2026.8.0", "--machine", "vm"], "--machine goes with --summary"),
                         (["--judge", str(broken), "--fixed"], ": --fixed would be ignored")):
        assert calibrate.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert needle in err and err.count("\n") == 1, err


def test_two_sittings_whose_baselines_differ_by_2x_say_the_machine_moved(tmp_path):
    """Results of another sitting meet the committed history: when the baselines, which do not run
    dask, took 2x their time, one line says the machine moved; within the sitting's own spread, no
    line. The dask benchmarks are never judged across the two."""
    from dask_bench.host.results import Measurement, Run, baseline_ratio, machine_moved

    def run(i, commit, scale, dask=1.0):
        r = Run(tmp_path / f"{i}.json", "m", commit * 40, "env", i, {})
        for k, name in enumerate(("baselines.SubmitLatency.time_submit_result", "baselines.AccountsBag.time_alice_mean")):
            value = (k + 1) * 1e-3 * scale
            r.measurements[(name, ())] = Measurement(value, (value,) * 5, "v")
        r.measurements[("futures.SubmitLatency.time_submit_result", ("'threads'",))] = Measurement(dask, (dask,) * 5, "v")
        return r

    sitting = [run(i, c, s) for i, (c, s) in enumerate([("a", 1.0), ("b", 1.01), ("c", 0.99)])]
    assert baseline_ratio(sitting[0], sitting[1]) == pytest.approx(1.01)
    moved = machine_moved(run(9, "c", 2.0, dask=3.0), sitting)
    assert moved and "2.02x" in moved  # against the run of the same commit (0.99) and "./compare" in moved and "\n" not in moved
    assert machine_moved(run(9, "c", 1.02, dask=3.0), sitting) is None  # the same machine, a 3x dask change
    assert machine_moved(run(9, "z", 1.0), []) is None  # nothing to meet


def test_the_history_is_a_chain_of_paired_verdicts_and_a_failed_pair_is_measured_again(tmp_path, capsys):
    """Four releases, three consecutive pairs: r0..r1 the same code, r1..r2 20% slower, r2..r3 failed
    (nothing stored). The chain marks exactly the r1..r2 step, compounds the intervals, never bridges
    the missing pair; the page shows it; make history's measuring keeps the stored pairs, reports the
    failed one and leaves it to the next run."""
    from dask_bench.host import chain, paired
    from dask_bench.host.cli import ToolError
    from dask_bench.host.asv_config import derive
    from dask_bench.host.report import paired_chain

    label = "futures.SubmitLatency.time_map_gather('threads')"
    drift = RNG.lognormal(0, 0.1, 40)

    def store(before, after, ratio):
        measured = {label: paired.Pairs(drifting_blocks(1.0, drift), drifting_blocks(ratio, drift))}
        data = paired.stored(paired.judge(measured, {}), measured, {}, ["c1", "c2"], before, after, None, 0.5)
        chain.pair_path(before, after, tmp_path).write_text(json.dumps({**data, "seconds": {"measured": 600.0}}))

    names = ["r0", "r1", "r2", "r3"]
    store("r0", "r1", 1.0)
    store("r1", "r2", 1.2)
    row = chain.links(names, tmp_path)[label]
    assert [link.decision.verdict if link else None for link in row] == ["same", "slower", None]
    steps = chain.steps({label: row})
    assert [(s.before, s.after) for s in steps] == [("r1", "r2")]
    first, second, gap = chain.cumulative(row)
    assert gap is None and second[0] == pytest.approx(first[0] * row[1].decision.ratio)
    assert second[2] / second[1] > first[2] / first[1], "the band compounds"
    text = chain.render(names, {label: row}, tmp_path)
    assert "2 of 3 consecutive pairs" in text and "not compared yet: r2..r3" in text and "r1 -> r2" in text
    assert "20 min 0 s of measuring" in text and "| r1..r2 | " in text and "| 10 min 0 s | 1 | 0 | 0 | 0 |" in text
    assert f"{label}: r2 / r0 = {verdict.format_ratio(verdict.Decision('', *second))}" in text
    page = paired_chain(tmp_path, names, tmp_path)
    assert "r1 &rarr; r2" in page and "slower" in page and (tmp_path / "history-paired.png").stat().st_size > 5000
    # measuring: the missing pair fails at once (no repository), the stored pairs stay, exit 2
    config = derive(tmp_path / "asv.json", repo=tmp_path / "no-repository")
    before = {p.name: p.read_text() for p in tmp_path.glob("*..*.json")}
    code = chain.main(["--measure", "--releases", " ".join(names), "--folder", str(tmp_path), "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 2 and "failed: r2..r3" in err and "1 pair(s) to compare, about 10 min" in out
    assert {p.name: p.read_text() for p in tmp_path.glob("*..*.json")} == before
    assert "not compared yet: r2..r3" in out  # and the next make history tries it again


def test_the_sequential_levels_spend_the_error_over_the_looks():
    """12 looks at the levels verdict.boundaries gives: null paths of accumulating data (simulated
    apart from the boundaries' own draw) cross some look about as often as one test at 1%, and the
    early looks are the strictest."""
    levels = verdict.boundaries(12)
    assert verdict.boundaries(1) == (verdict.ALPHA,) and len(levels) == 12 and levels[0] < levels[-1] < verdict.ALPHA
    from scipy import stats

    edges = stats.norm.isf(np.array(levels) / 2)
    z = np.abs(np.cumsum(np.random.default_rng(99).standard_normal((200_000, 12)), axis=1) / np.sqrt(np.arange(1, 13)))
    crossed = float(np.mean((z >= edges).any(axis=1)))
    assert 0.007 < crossed < 0.013, crossed


def test_the_sequential_rule_stops_early_on_a_large_change_and_never_calls_an_aa_pair_slower():
    """The looks paired.measure takes after each segment: a 20% slowdown is settled (slower) at the
    first look with enough pairs to judge; A/A pairs of the same drifting machine are never settled slower or faster at any look,
    and settle same only once the interval fits inside the factor."""
    from dask_bench.host import paired

    label = "futures.SubmitLatency.time_map_gather('threads')"  # factor 1.05
    sizes = paired.segment_sizes(60, 12)

    def blocks(ratio, seed):
        rng = np.random.default_rng(seed)
        drift = rng.lognormal(0, 0.15, 60)  # the machine moves both sides of a pair alike
        offsets = np.repeat(rng.normal(0, 0.005, 12), 5)  # each segment's pair of clusters sits a little apart
        return [[[{label: list(d * rng.lognormal(0, 0.01, 3))} for d in drift]][0],
                [{label: list(ratio * d * np.exp(o) * rng.lognormal(0, 0.01, 3))} for d, o in zip(drift, offsets)]]

    measured = blocks(1.20, 1)
    assert paired.look(measured, [label], sizes, 1)[label].verdict == "too few samples"  # 5 pairs
    first = next(k for k in range(1, 13) if verdict.settled(paired.look(measured, [label], sizes, k)[label]))
    slower = paired.look(measured, [label], sizes, first)[label]
    # the first look with MIN_PAIRS pairs: 2 segments of 5 blocks (the signed-rank test, whose smallest p on 10
    # pairs is 2 / 2**10, above that look's level, guards at ALPHA; the t-test at the look's level)
    assert first == 2 and slower.verdict == "slower" and slower.alpha < verdict.ALPHA, (first, slower)
    assert slower.p < slower.alpha < slower.p_samples < verdict.ALPHA, slower
    stops = []
    for seed in range(30):
        measured = blocks(1.0, 100 + seed)
        verdicts = [paired.look(measured, [label], sizes, k)[label].verdict for k in range(1, 13)]
        assert not {"slower", "faster"} & set(verdicts), (seed, verdicts)
        stops.append(next((k for k, v in enumerate(verdicts, 1) if v == "same"), None))
    assert all(stops) and max(stops) <= 12, stops  # every A/A pair settles same within its 12 segments


def test_replay_cuts_sequential_pairs_where_todays_rule_stops_them_and_leaves_the_rest(tmp_path):
    """calibrate --judge and ./compare --judge replay a sequential unit's looks on its kept blocks: a unit kept for 5
    of 12 segments under an older rule, with a 30% change settled at today's second look, is cut to 2
    segments; a unit that never settles early, and one measured on a fixed plan, are kept whole."""
    from dask_bench.host import paired

    slow, flat, fixed = ("futures.SubmitLatency.time_map_gather('threads')", "futures.SubmitLatency.time_map_gather("
                         "'processes')", "futures.SubmitLatency.time_submit_result('threads')")
    rng = np.random.default_rng(3)
    drift = rng.lognormal(0, 0.1, 25)
    base = [[d * x for x in rng.lognormal(0, 0.01, 3)] for d in drift]
    aside = [[d * x for x in rng.lognormal(0, 0.01, 3)] for d in drift]
    kept = {slow: paired.Pairs(base, [[1.3 * x for x in b] for b in aside], (5,) * 5, 12, 60.0),
            flat: paired.Pairs(base, [[x * (1.06 if i % 2 else 0.95) for x in b] for i, b in enumerate(aside)],
                               (5,) * 5, 12, 61.0),
            fixed: paired.Pairs(base, [[1.3 * x for x in b] for b in aside], (5,) * 5, 0, 62.0)}
    cut = paired.replay(kept)
    assert cut[slow].segments == (5, 5) and len(cut[slow].before) == len(cut[slow].after) == 10, cut[slow].segments
    assert cut[slow].seconds == 60.0 and cut[flat] == kept[flat] and cut[fixed] == kept[fixed]

    # ./compare --judge replays them too: a comparison's JSON (paired.stored's record) cut the same way
    path = tmp_path / "compare.json"
    path.write_text(json.dumps({"base": {"rev": "a"}, "head": {"rev": "b"},
                                "benchmarks": {label: pairs.record() for label, pairs in kept.items()}}))
    decisions, measured, *_ = paired.rejudge(path, None, None)
    assert measured[slow].segments == (5, 5) and decisions[slow].verdict == "slower", measured[slow].segments
    assert measured[flat] == kept[flat] and measured[fixed] == kept[fixed]
    # a file whose plan has fewer segments than it kept: one line naming the file, the benchmark and the field
    path.write_text(json.dumps({"base": {"rev": "a"}, "head": {"rev": "b"},
                                "benchmarks": {slow: {**kept[slow].record(), "planned_segments": -2}}}))
    with pytest.raises(paired.PairedError, match=r"compare.json: .*planned_segments -2: fewer than the 5 segments"):
        paired.rejudge(path, None, None)
    # two units that took the same time: told apart by the unit each recorded, not judged as one
    twins = {slow: kept[slow]._replace(unit=slow), flat: kept[flat]._replace(seconds=60.0, unit=flat)}
    assert paired.replay({label: p._replace(unit="") for label, p in twins.items()})[slow] == kept[slow]
    path.write_text(json.dumps({"base": {"rev": "a"}, "head": {"rev": "b"},
                                "benchmarks": {label: pairs.record() for label, pairs in twins.items()}}))
    _, measured, *_ = paired.rejudge(path, None, None)
    assert measured[slow].segments == (5, 5) and measured[slow].unit == slow and measured[flat] == twins[flat]


def test_a_calibration_matrix_counts_false_alarms_bounds_their_rate_and_times_each_verdict():
    """calibrate's matrix from paired decisions: an A/A pair called slower is a false alarm, one
    inconclusive is not; the rate's upper bound is Clopper-Pearson's (0 in n: 1 - 0.05^(1/n)); the
    time to verdict per outcome is the median and the worst of the pairs that recorded it, with the
    share of it spent starting and stopping servers."""
    from dask_bench.host import calibrate, paired

    label = "futures.SubmitLatency.time_submit_result('threads')"
    same = verdict.Decision("same", 1.0, 0.99, 1.01, 0.5, 0.5, 1.05)
    decided = {f"A/A {k}": {label: same} for k in range(1, 5)}
    decided["A/A 5"] = {label: verdict.replace(same, verdict="inconclusive", low=0.9, high=1.1)}
    decided["client 1 ms"] = {label: verdict.Decision("slower", 1.3, 1.2, 1.4, 1e-6, 1e-6, 1.05)}
    kept = {side: {label: paired.Pairs([], [], seconds=60.0 * k, fixed=6.0 * k)} for k, side in enumerate(decided, 1)}
    (entry,) = calibrate.matrix(decided, None, kept)
    assert (entry["false_alarms"], entry["inconclusive"], len(entry["aa"])) == (0, 1, 5)
    text = calibrate.render([entry], "2026.8.0", None, 5, ["REV", *decided], "vm", "measured")
    assert "0 false alarm(s) in 5 A/A verdicts (1 benchmarks)" in text
    assert f"below {1 - 0.05 ** (1 / 5):.1%} with 95% confidence" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert "2 min 30 s" in rows["same"] and "4 min 0 s" in rows["same"]  # median and worst of 1-4 min
    assert "6 min 0 s" in rows["slower"] and "**slower** 1.30" in text
    assert rows["same"].rstrip(" |").endswith("10%")  # the share starting and stopping servers
    decided["A/A 1"] = {label: verdict.replace(same, verdict="slower", ratio=1.2, low=1.1, high=1.3)}
    (entry,) = calibrate.matrix(decided, None)
    assert entry["false_alarms"] == 1 and "1 false alarm(s) in 5" in calibrate.false_alarm_bound([entry])


def test_a_look_settles_slower_only_if_the_table_will_still_call_it_slower():
    """The committed sequential calibration's scheduler 0.25 ms pair: the round trip with processes
    stopped at its second look on a "slower" (p 0.00034 against the look's 0.00133) that the table,
    adjusting for its four benchmarks, then called inconclusive. A look now settles slower or faster
    only when the p-value times the benchmarks judged together is below the look's level; same is
    unaffected, and a benchmark judged alone settles as before."""
    from dask_bench.host import paired

    kept = json.loads((REPO / "results" / "calibration" / "sequential-quick-2026.8.0-2026-12-04.json").read_text())
    label = "futures.SubmitLatency.time_submit_result('processes')"
    pairs = paired.Pairs.of_record(kept["pairs"]["scheduler 0.25 ms"][label])
    d = verdict.decide_paired(pairs.before, pairs.after, 1.05, pairs.segments, pairs.alpha)
    assert d.verdict == "slower" and len(pairs.segments) == 2
    assert paired.settled(d, 1) and not paired.settled(d, 4)
    table = paired.judge({label: pairs, **{other: paired.Pairs.of_record(record) for other, record in
                                           kept["pairs"]["scheduler 0.25 ms"].items() if other != label}}, {})
    assert table[label].verdict == "inconclusive"  # what stopping there gave
    same = verdict.Decision("same", 1.0, 0.99, 1.01, 0.9, 0.9, 1.05, 0.0013)
    assert paired.settled(same, 39) and not paired.settled(verdict.replace(same, verdict="inconclusive"), 1)


def test_the_readme_example_is_what_the_committed_comparison_printed():
    """The README's annotated example is cut from the committed table it links to, line for line: a
    number there is one the command printed, and it cannot drift from its evidence."""
    readme = (REPO / "README.md").read_text()
    link = re.search(r"\]\((results/paired-history/[^)]+\.md)\)\):\n\n```\n(.*?)```", readme, re.S)
    assert link, "the README's example names the committed table it is cut from"
    printed = (REPO / link.group(1)).read_text().splitlines()
    shown = [line for line in link.group(2).splitlines() if line.strip()]
    assert len(shown) >= 3 and all(line in printed for line in shown), \
        [line for line in shown if line not in printed]


def test_the_committed_chain_is_what_the_history_prints_today():
    """results/paired-history/chain.md (make history writes it) is the chain its pairs give by
    today's rule: a pair added or a rule changed without it shows here."""
    from dask_bench.host import chain

    names = chain.releases()
    committed = (chain.PAIRED_HISTORY / "chain.md").read_text()
    assert chain.render(names, chain.links(names)) == committed, (
        "stale: python -m dask_bench.host.chain --markdown results/paired-history/chain.md")


def test_the_plan_options_are_tri_state_and_the_history_measures_every_segment(tmp_path, monkeypatch):
    """--sequential and --fixed (shared by compare, bisect, ab, calibrate): True, False, or None for
    each benchmark's policy, never both; make history's chain passes --fixed unless told otherwise."""
    import argparse

    from dask_bench.host import chain, paired
    from dask_bench.host.cli import ToolError

    parser = argparse.ArgumentParser()
    paired.add_plan_options(parser)

    def planned(argv):
        args = parser.parse_args(argv)
        paired.check_plan(args)
        return args.sequential

    assert [planned(argv) for argv in ([], ["--sequential"], ["--fixed"])] == [None, True, False]
    with pytest.raises(ToolError, match="exclude each other: give one"):
        planned(["--fixed", "--sequential"])
    label = "futures.SubmitLatency.time_map_gather('threads')"
    assert paired.sequential_of([label]) and not paired.sequential_of([label], False)
    assert not paired.sequential_of(["no.such.benchmark"])  # fails as it runs, not here
    calls = []
    monkeypatch.setattr(paired, "main", lambda argv: calls.append(argv) or 2)
    for extra, expected in (([], "--fixed"), (["--sequential"], "--sequential")):
        calls.clear()
        chain.main(["--measure", "--releases", "r0 r1", "--folder", str(tmp_path), *extra])
        (argv,) = calls
        assert expected in argv and not ({"--fixed", "--sequential"} - {expected}) & set(argv), argv


def test_a_command_run_by_another_returns_its_error_and_leaves_a_signal_to_the_outer_one(capsys):
    """make history runs ./compare per pair: a pair's bad input is that pair's exit 2, but Ctrl-C
    or a bug stops the history itself (they are not a pair's failure)."""
    from dask_bench.host import cli

    @cli.command("inner")
    def inner(argv):
        if argv == ["bad"]:
            raise cli.ToolError("bad input")
        if argv == ["stop"]:
            raise cli.Stopped(signal.SIGINT)
        raise RuntimeError("a bug")

    returned = []

    @cli.command("outer")
    def outer(argv):
        returned.append(inner(["bad"]))
        returned.append(inner(argv))
        return 0

    assert outer(["stop"]) == 130 and returned == [2]
    assert outer(["bug"]) == 2 and returned == [2, 2]
    assert inner(["bad"]) == 2 and inner(["bug"]) == 2  # outer again once the outer command returned
    err = capsys.readouterr().err
    for line in ("inner: error: bad input", "outer: stopped (SIGINT)", "outer: error: RuntimeError: a bug",
                 "inner: error: RuntimeError: a bug"):
        assert line in err


def test_make_discover_names_a_missing_or_broken_configuration_in_one_line(tmp_path, capsys):
    from dask_bench.host import asv_run

    broken = tmp_path / "broken.json"
    broken.write_text("{bad")
    assert asv_run.main(["--discover", str(tmp_path / "nope.json")]) == 2
    assert asv_run.main(["--discover", str(broken)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"asv_run: error: {tmp_path / 'nope.json'}: Config file {tmp_path / 'nope.json'} not found."
    assert err[1].startswith(f"asv_run: error: {broken} is not a readable asv configuration") and len(err) == 2
