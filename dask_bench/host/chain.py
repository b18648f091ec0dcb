"""The release history as a chain of paired verdicts: each release against its predecessor, both
measured at once, so no step of the chain compares numbers of two sittings.

    python -m dask_bench.host.chain [--measure] [-b REGEX] [--releases "A B C"]     (make history)
    python -m dask_bench.host.chain --asv-runs [--latest N] [-b REGEX] [--releases "A B"]  (ASV_RUNS=1)

Each pair of consecutive releases (results/distributed-releases.txt, oldest first) is one
`./compare A B`, its table and blocks kept in results/paired-history/A..B.{md,json}. `--measure`
measures the pairs that have no stored comparison, newest first, saying first how long that will
take; a pair that fails (exit 2) stores nothing and is measured again next time, and an interrupted
pair resumes from its kept segments. Then (or without it, measuring nothing) the chain is printed
(`render`; --markdown also writes it: make history keeps results/paired-history/chain.md): each pair
compared, every step the paired verdict called slower or faster, and per benchmark the newest release
against the oldest of its chain (the product of the consecutive ratios) with a band that compounds
the consecutive intervals (their log half-widths added in quadrature). `--asv-runs` is no verdict: asv runs of every tagged
release of the repository asv measures, for the absolute timings of asv's pages, of the benchmarks
without a successful result of their current version (asv's --skip-existing-successful: what is
stored is kept, so an interrupted run resumes).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import policy
from . import asv_run, paired, verdict
from .asv_config import MAIN_CONFIG
from .cli import ToolError, command
from .release_history import DEFAULT_PIN_FILE
from .revisions import load_config, tagged_commits

PAIRED_HISTORY = Path(__file__).resolve().parent.parent.parent / "results" / "paired-history"


@dataclass(frozen=True)
class Link:
    """One benchmark between two consecutive releases, as their paired comparison judged it."""
    before: str
    after: str
    decision: verdict.Decision


def pair_path(before: str, after: str, folder: Path = PAIRED_HISTORY) -> Path:
    return folder / f"{before}..{after}.json"


def releases(pin_file: Path = DEFAULT_PIN_FILE) -> list[str]:
    try:
        return Path(pin_file).read_text().split()
    except OSError as exc:
        raise ToolError(f"{pin_file}: cannot read the release list ({exc.strerror}); restore it with git") from None


def links(names: list[str], folder: Path = PAIRED_HISTORY) -> dict[str, list[Link | None]]:
    """benchmark label -> one Link per consecutive pair of `names` (None where that pair has no stored
    comparison, or did not measure the benchmark), judged again from the kept blocks by today's rule."""
    chain: dict[str, list] = {}
    pairs = list(zip(names, names[1:]))
    for k, (before, after) in enumerate(pairs):
        path = pair_path(before, after, folder)
        if not path.exists():
            continue
        decisions, *_ = paired.rejudge(path, None, None)
        for label, d in decisions.items():
            chain.setdefault(label, [None] * len(pairs))[k] = Link(before, after, d)
    return chain


def cumulative(row: list[Link | None]) -> list[tuple[float, float, float] | None]:
    """(ratio, low, high) of each release after the first of its run against that first release: the
    product of the consecutive ratios, and a band whose log half-width adds the consecutive 99%
    intervals' in quadrature. None where a pair was not compared; the next run starts afresh there
    (a chain never bridges a pair that was not compared)."""
    out, log_ratio, variance = [], 0.0, 0.0
    for link in row:
        d = link.decision if link else None
        if d is None or any(math.isnan(v) for v in (d.ratio, d.low, d.high)):
            out.append(None)
            log_ratio, variance = 0.0, 0.0
            continue
        log_ratio += math.log(d.ratio)
        variance += (math.log(d.high / d.low) / 2) ** 2
        spread = math.sqrt(variance)
        out.append((math.exp(log_ratio), math.exp(log_ratio - spread), math.exp(log_ratio + spread)))
    return out


def steps(chain: dict[str, list[Link | None]]) -> list[Link]:
    """Every link the paired verdict called slower or faster, of a counted benchmark."""
    return [link for label, row in sorted(chain.items()) if policy.counted(label)
            for link in row if link and link.decision.verdict in (verdict.SLOWER, verdict.FASTER)]


def estimate(folder: Path, pairs: int) -> str:
    """How long `pairs` more pairs will take: the median measuring time of the pairs stored so far."""
    took = sorted(json.loads(path.read_text()).get("seconds", {}).get("measured", math.nan)
                  for path in Path(folder).glob("*..*.json"))
    took = [t for t in took if not math.isnan(t)]
    if not took:
        return f"{pairs} pair(s) to compare; how long each takes is known once the first is measured"
    each = took[len(took) // 2]
    return (f"{pairs} pair(s) to compare, about {pairs * each / 60:.0f} min of measuring ({each / 60:.0f} min a pair "
            "so far) plus the builds, a few minutes a release")


def render(names: list[str], chain: dict[str, list[Link | None]], folder: Path = PAIRED_HISTORY) -> str:
    """The chain for people: each compared pair (when and how long it was measured, its outcomes),
    every step called slower or faster with its ratio and interval, and per benchmark the newest
    release of its run against the oldest (`cumulative`)."""
    pairs = list(zip(names, names[1:]))
    compared = [k for k in range(len(pairs)) if any(row[k] for row in chain.values())]
    meta = {}
    for k in compared:
        try:
            data = json.loads(pair_path(*pairs[k], folder).read_text())
            meta[k] = (data["date"][:10], data["machine"], float(data["seconds"]["measured"]))
        except (OSError, ValueError, KeyError, TypeError):
            meta[k] = ("", "", math.nan)
    total = sum(seconds for *_, seconds in meta.values() if not math.isnan(seconds))
    found = steps(chain)
    table = ["| pair | measured | machine | took | slower | faster | inconclusive | same |",
             "|---|---|---|---:|---:|---:|---:|---:|"] if compared else []
    for k in reversed(compared):
        date, machine, seconds = meta[k]
        outcome = paired.tally({label: row[k].decision for label, row in chain.items() if row[k]})
        table.append(f"| {pairs[k][0]}..{pairs[k][1]} | {date} | {machine} | "
                     f"{paired.duration(seconds) if not math.isnan(seconds) else ''} | "
                     + " | ".join(str(n) for n in outcome.values()) + " |")
    marked = ["Steps (consecutive releases the paired verdict called slower or faster):"] if found else []
    for link in found:
        label = next(label for label, row in chain.items() if link in row)
        marked.append(f"  {link.before} -> {link.after}  {label}: {verdict.format_ratio(link.decision)} "
                      f"{link.decision.verdict}")
    ends = []
    for label, row in sorted(chain.items()):
        band = cumulative(row)
        last = max((k for k, value in enumerate(band) if value), default=None)
        if last is not None and policy.counted(label):
            first = next(k for k in range(last, -1, -1) if k == 0 or band[k - 1] is None)
            ends.append(f"  {label}: {names[last + 1]} / {names[first]} = "
                        f"{verdict.format_ratio(verdict.Decision('', *band[last]))}")
    if ends:
        ends.insert(0, "Newest against oldest of each run of compared pairs (the product of the consecutive "
                       "ratios; the band compounds their 99% intervals):")
    missing = [f"{a}..{b}" for k, (a, b) in enumerate(pairs) if k not in compared]
    sections = [[f"{len(compared)} of {len(pairs)} consecutive pairs compared side by side; {len(found)} step(s) "
                 f"called slower or faster; {paired.duration(total)} of measuring"], table, marked, ends,
                [f"not compared yet: {', '.join(missing)} (make history measures them)"] if missing else []]
    return "\n\n".join("\n".join(section) for section in sections if section) + "\n"


def asv_runs(config: Path, wanted: list[str], latest: int, bench: str) -> int:
    """asv runs (asv_run: Ctrl-C stops them cleanly) of the tagged releases of the repository asv
    measures (`wanted` of them, else all; `latest`: only the newest N) that lack a successful result of
    a benchmark's current version; asv's exit status."""
    conf = load_config(config)
    releases = dict(tagged_commits(conf.repo))
    unknown = [name for name in wanted if name not in releases]
    if unknown or latest < 0:
        raise ToolError(f"no release {', '.join(unknown)} in {conf.repo} (it has {' '.join(releases)}); add it with "
                        "DISTRIBUTED_RELEASES=… make distributed-repo" if unknown else
                        f"LATEST={latest}: give a number of releases, or 0 for all")
    names = [name for name in releases if not wanted or name in wanted][-latest if latest else None:]
    print(f"history: asv runs of {' '.join(names)}, the benchmarks of each without a valid result", flush=True)
    with tempfile.NamedTemporaryFile("w", prefix="dask-bench-releases-", suffix=".txt") as hashes:
        hashes.write("".join(releases[name] + "\n" for name in names))
        hashes.flush()
        return asv_run.run(["run", "--config", str(config), "--record-samples", "--skip-existing-successful",
                            "-b", bench, f"HASHFILE:{hashes.name}"], Path(conf.results_dir))


@command("history")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.chain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", action="store_true", help="compare every consecutive pair not stored yet")
    parser.add_argument("--bench", "-b", default=None, help="benchmark regex (default: the quick selection)")
    parser.add_argument("--releases", help="these releases, oldest first (default: results/distributed-releases.txt)")
    parser.add_argument("--folder", type=Path, default=PAIRED_HISTORY, help="where the pairs are kept")
    parser.add_argument("--asv-runs", action="store_true", help="instead: asv runs of the releases lacking results")
    parser.add_argument("--latest", type=int, default=0, help="with --asv-runs: only the newest N releases")
    parser.add_argument("--markdown", type=Path, help="also write the chain here (make history: "
                        "results/paired-history/chain.md)")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    args, rest = parser.parse_known_args(argv)  # the rest goes to ./compare (--workdir, ...)
    if rest and not args.measure:
        raise ToolError(f"{' '.join(rest)}: options of ./compare, which only --measure runs")
    if args.asv_runs:
        return asv_runs(args.config, (args.releases or "").split(), args.latest,
                        args.bench or policy.selection_regex("default"))
    names = args.releases.split() if args.releases else releases()
    if len(names) < 2:
        raise ToolError("a chain needs two releases or more")
    bench = args.bench or policy.selection_regex("quick")
    failed: list[str] = []
    if args.measure:
        todo = [(k, a, b) for k, (a, b) in reversed(list(enumerate(zip(names, names[1:]))))
                if not pair_path(a, b, args.folder).exists()]
        print(f"history: {estimate(args.folder, len(todo))}", flush=True)
        args.folder.mkdir(parents=True, exist_ok=True)
        # every planned segment, unless asked otherwise: the history's ratios as narrow as its plan allows
        looks = [] if {"--sequential", "--fixed"} & set(rest) else ["--fixed"]
        for k, before, after in todo:
            print(f"[pair] {before}..{after}", flush=True)
            # every other pair swaps the two environments: a release shared by two pairs is built and
            # installed once, in the same environment for both
            code = paired.main([before, after, "-b", bench, "--config", str(args.config), "--markdown",
                                str(pair_path(before, after, args.folder).with_suffix(".md")), *rest, *looks,
                                *(["--swap"] if k % 2 else [])])
            if code == 2:  # nothing stored: compared again next time
                failed.append(f"{before}..{after}")
                for path in (pair_path(before, after, args.folder), pair_path(before, after, args.folder).with_suffix(".md")):
                    path.unlink(missing_ok=True)
        if failed:
            print(f"history: failed: {', '.join(failed)} (see above); the others are kept", file=sys.stderr)
    text = render(names, links(names, args.folder), args.folder)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
