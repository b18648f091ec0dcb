# Two commands on a fresh machine: `make bench` (set-up and the main job) and `make test`.
# Every target works from a fresh clone with only python3 and make present, and is idempotent.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ASV    := $(VENV)/bin/asv
STAMP  := $(VENV)/.installed
SIZE   ?= small
# make distributed-repo: DISTRIBUTED_RELEASES="2026.7.1 2026.8.0" picks releases, DISTRIBUTED_REPO=<path or URL>
# mirrors a real repository instead (both read from the environment by dask_bench.host.release_history).
export DISTRIBUTED_RELEASES DISTRIBUTED_REPO
DISTRIBUTED_REPO_PATH ?= .asv/distributed

# Each benchmark is judged with its own factor (its policy, dask_bench/policy.py) unless FACTOR is given.
FACTOR_ARG = $(if $(FACTOR),--factor $(FACTOR))
# BLOCKS=N, SEGMENTS=N: every benchmark's paired plan instead of its own; SEQUENTIAL=1: every benchmark
# stops once settled, FIXED=1: none does (default: each benchmark's policy)
PLAN_ARGS = $(if $(BLOCKS),--blocks $(BLOCKS)) $(if $(SEGMENTS),--segments $(SEGMENTS)) \
  $(if $(filter 1,$(SEQUENTIAL)),--sequential) $(if $(filter 1,$(FIXED)),--fixed)
# Whose results reports and summaries read (asv keys results by machine): default this host's.
MACHINE ?=
MACHINE_ARGS = $(if $(MACHINE),--machine "$(MACHINE)")
PORT   ?= 8080
VARIANT ?= queuing
# BENCH="regex" limits compare, ab and calibrate to some benchmarks (asv -b).
BENCH_ARGS = $(if $(BENCH),-b "$(BENCH)")
# Another asv configuration (e.g. a derived one with its own results) for compare and ab;
# the default one measures .asv/distributed, which these targets then make first.
ASV_CONFIG ?= asv.conf.json
REPO_FOR_CONFIG = $(if $(filter asv.conf.json,$(ASV_CONFIG)),distributed-repo)
COMPARE_MD ?= out/compare.md
# where compare and profile keep HEAD's asv environment and each side's results
COMPARE_DIR ?= .asv/compare
AB_DIR     ?= .asv/ab
AB_MD      ?= out/ab-$(VARIANT).md
# make calibrate: injected slowdowns (sites and milliseconds per task) and A/A pairs
SITES ?= client,scheduler,worker
MS    ?= 0.1,1
AA    ?= 5

.PHONY: help install data distributed-repo machine discover check bench history bisect bisect-args load compare compare-ready profile profile-args profile-diff profile-diff-args ab calibrate detection \
        publish preview report browser test test-fast clean compare-args rev-arg

help:
	@echo "make bench [BENCH=regex]   install, data ($(SIZE)), distributed repo, asv run of the newest commit, report"
	@echo "make test | test-fast      the whole test suite (CI) | the tier without asv runs or clusters (< 2 min)"
	@echo "make compare BASE=<rev> HEAD=<rev> [BENCH=regex] [FACTOR=1.05] [FIXED=1] [PROFILE=1]   the verdict (= ./compare)"
	@echo "  A/A: BASE=HEAD; BLOCKS=N SEGMENTS=N: another plan; BUILD_ONLY=1: build only"
	@echo "make history [RELEASES=\"A B\"] [BENCH=regex]   each release against its predecessor, paired (ASV_RUNS=1: asv runs)"
	@echo "make bisect BENCH=<regex> GOOD=<rev> BAD=<rev> [FASTER=1]   the first commit that made BENCH slower"
	@echo "make profile BENCH=<regex> [REV=<rev>] | profile-diff BASE=<rev> HEAD=<rev> BENCH=<regex>   out/profiles/"
	@echo "make load                  the load benchmarks (100,000-task map/gather, 10,000 resubmissions)"
	@echo "make ab REV=<rev> [VARIANT=queuing|work-stealing|stealing-interval] [BENCH=regex]   a config A/B"
	@echo "make calibrate REV=<rev> [AA=5] [SITES=...] [MS=...] [FIXED=1] | detection   how far the verdict goes"
	@echo "  HISTORY=6 [STEP_AT=3]: make history's detector on commits with one known step (STEP_AT=0: none)"
	@echo "make publish | preview [PORT=8080] | report | install | data [SIZE=tiny|small|full] | distributed-repo | clean"
	@echo "make discover              after adding or changing a benchmark: results/benchmarks.json (names, versions)"

install: $(STAMP)

# Re-install only when the declared dependencies change: a second `make install` does nothing.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

data: install
	$(PY) -m data_prep --size $(SIZE)

distributed-repo: install
	$(PY) -m dask_bench.host.release_history --path $(DISTRIBUTED_REPO_PATH)

# asv keys results by machine; --yes takes the defaults (hostname, cpu, ram) without asking.
machine: install
	$(ASV) machine --yes > /dev/null

# After adding or changing a benchmark: asv's list of the benchmarks and their versions, results/benchmarks.json
# (discovered with the installed distributed and the default datasets, whose preset each version covers;
# nothing else under results/ is written).
discover: install data
	$(PY) -m dask_bench.host.asv_run --discover $(ASV_CONFIG)

# DASK_BENCH_* settings and the data, checked before asv runs (one-line errors that name the fix).
check: install
	$(PY) -m dask_bench.host.preflight --config $(ASV_CONFIG)

# Stored with this machine's own runs (.asv/results, machine local-<host>): never in results/, the committed history.
bench: install data $(REPO_FOR_CONFIG) machine check
	$(PY) -m dask_bench.host.asv_run --local $(if $(BENCH),,--selection default) -- run --config $(ASV_CONFIG) \
	  --show-stderr --record-samples $(BENCH_ARGS) main^!
	$(MAKE) --no-print-directory report
	@$(PY) -m dask_bench.host.summary
	@echo "HTML report: html/index.html and html/report/index.html (make preview serves them on 127.0.0.1)"

# The history as a chain of paired verdicts: every consecutive pair of releases not compared yet, newest first
# (results/paired-history/), resumable. ASV_RUNS=1: asv runs of every release without a valid stored result
# (the absolute timings of asv's pages; never a verdict).
history: install $(REPO_FOR_CONFIG) machine check
	$(if $(REPO_FOR_CONFIG),$(PY) -m dask_bench.host.release_history --path $(DISTRIBUTED_REPO_PATH) --grow)
	$(PY) -m dask_bench.host.chain $(if $(filter 1,$(ASV_RUNS)),--asv-runs $(if $(LATEST),--latest $(LATEST)), \
	  --measure --workdir $(COMPARE_DIR) $(if $(RELEASES)$(BENCH),,--markdown results/paired-history/chain.md)) \
	  $(if $(RELEASES),--releases "$(RELEASES)") $(BENCH_ARGS) --config $(ASV_CONFIG)

bisect-args:
	@test -n "$(BENCH)" -a -n "$(GOOD)" -a -n "$(BAD)" || \
	  { echo "usage: make bisect BENCH=<regex> GOOD=<rev> BAD=<rev> [FACTOR=1.10] [FASTER=1]"; exit 2; }

# The first commit between GOOD and BAD that made BENCH slower (a real repository: DISTRIBUTED_REPO);
# FASTER=1: the first that made it faster (GOOD the slower revision).
bisect: bisect-args compare-ready
	$(PY) -m dask_bench.host.bisection "$(BENCH)" "$(GOOD)" "$(BAD)" $(FACTOR_ARG) $(PLAN_ARGS) --config $(ASV_CONFIG) \
	  --workdir $(COMPARE_DIR) $(if $(FASTER),--faster)

# The load benchmarks (100,000-task map, 10,000 resubmissions): minutes a sample, so not in make bench.
load: install data $(REPO_FOR_CONFIG) machine check
	$(PY) -m dask_bench.host.asv_run --local --selection load -- run --config $(ASV_CONFIG) --show-stderr \
	  --record-samples main^!
	@$(PY) -m dask_bench.host.summary

# The argument checks come first, so a missing argument fails before anything is installed or run.
compare-args:
	@test -n "$(BASE)" -a -n "$(HEAD)" || { echo "usage: make $(MAKECMDGOALS) BASE=<rev> HEAD=<rev> [BENCH=regex] [FACTOR=…]"; exit 2; }
rev-arg:
	@test -n "$(REV)" || { echo "usage: make $(MAKECMDGOALS) REV=<rev> [BENCH=regex]"; exit 2; }

# Everything a measurement needs; ./compare (the CI command) runs this, then the compare tool itself.
compare-ready: install $(REPO_FOR_CONFIG) machine check

# The verdict (./compare is the same for CI: make exits 2 for any failed recipe, a slower one included).
compare: compare-args compare-ready
	$(PY) -m dask_bench.host.paired "$(BASE)" "$(HEAD)" $(FACTOR_ARG) $(PLAN_ARGS) --config $(ASV_CONFIG) \
	  --workdir $(COMPARE_DIR) --markdown $(COMPARE_MD) $(BENCH_ARGS) $(if $(filter 1,$(PROFILE)),--profile) $(if $(filter 1,$(BUILD_ONLY)),--build-only)

profile-args:
	@test -n "$(BENCH)" || { echo "usage: make profile BENCH=<regex> [REV=<rev>]"; exit 2; }
profile-diff-args:
	@test -n "$(BENCH)" -a -n "$(BASE)" -a -n "$(HEAD)" || \
	  { echo "usage: make profile-diff BASE=<rev> HEAD=<rev> BENCH=<regex>"; exit 2; }

# profiles/<benchmark>/<version>/index.html: performance report, py-spy, sampled profiles, journey, memory
profile: profile-args compare-ready
	$(PY) -m dask_bench.host.profile "$(BENCH)" --rev "$(or $(REV),main)" --config $(ASV_CONFIG) \
	  --workdir $(COMPARE_DIR)

profile-diff: profile-diff-args compare-ready
	$(PY) -m dask_bench.host.profile "$(BENCH)" --base "$(BASE)" --head "$(HEAD)" --config $(ASV_CONFIG) \
	  --workdir $(COMPARE_DIR)

ab: rev-arg compare-ready
	$(PY) -m dask_bench.host.ab "$(REV)" --variant $(VARIANT) $(FACTOR_ARG) $(PLAN_ARGS) \
	  --config $(ASV_CONFIG) --workdir $(AB_DIR) --markdown $(AB_MD) $(BENCH_ARGS)

calibrate: rev-arg compare-ready
	$(PY) -m dask_bench.host.calibrate "$(REV)" --aa $(AA) --sites "$(SITES)" --ms "$(MS)" $(FACTOR_ARG) \
	  $(PLAN_ARGS) --config $(ASV_CONFIG) $(BENCH_ARGS) $(if $(HISTORY),--history $(HISTORY)) \
	  $(if $(STEP_AT),--step-at $(STEP_AT))

# Per counted benchmark, what the calibration its policy names says at today's settings (results/calibration/detection.md is this table)
detection: install
	$(PY) -m dask_bench.host.calibrate --summary $(MACHINE_ARGS) --markdown out/detection.md

# asv's pages load scripts from CDNs; vendor makes the site work without internet.
# asv publish reads commit dates and tags from the repository: a fresh clone makes it first.
publish: install $(REPO_FOR_CONFIG)
	$(PY) -m dask_bench.host.publish --config $(ASV_CONFIG)

preview: install
	$(PY) -m dask_bench.host.preview --port $(PORT)

report: publish
	$(PY) -m dask_bench.host.report $(MACHINE_ARGS)

# The browser test drives Debian's Chromium; install it when missing (root, or sudo).
browser:
	@command -v chromium > /dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium > /dev/null; }

test: install browser
	$(PY) -m pytest

# The edit-test loop: no asv run, no cluster (tests marked slow are left out).
test-fast: install
	$(PY) -m pytest -m "not slow" -q

clean:
	rm -rf $(VENV) html out .pytest_cache
