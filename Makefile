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

FACTOR ?= 1.10
# make paired (and calibrate PAIRED=1) judge each benchmark with its own minimum effect unless FACTOR is
# given (paired.FACTOR_NEEDED: 5% for every benchmark, as calibrated)
PAIRED_FACTOR_ARG = $(if $(filter file,$(origin FACTOR)),,--factor $(FACTOR))
ROUNDS ?= 2
# Whose results reports and summaries read (asv keys results by machine): default this host's.
MACHINE ?=
MACHINE_ARGS = $(if $(MACHINE),--machine "$(MACHINE)")
PORT   ?= 8080
VARIANT ?= queuing
# BENCH="regex" limits compare, noise and ab to some benchmarks (asv -b).
BENCH_ARGS = $(if $(BENCH),-b "$(BENCH)")
# Another asv configuration (e.g. a derived one with its own results) for compare, noise and ab;
# the default one measures .asv/distributed, which these targets then make first.
ASV_CONFIG ?= asv.conf.json
REPO_FOR_CONFIG = $(if $(filter asv.conf.json,$(ASV_CONFIG)),distributed-repo)
COMPARE_MD ?= compare.md
# where compare, paired and profile keep HEAD's asv environment and each side's results
COMPARE_DIR ?= .asv/compare
NOISE_DIR  ?= .asv/noise
AB_DIR     ?= .asv/ab
AB_MD      ?= ab-$(VARIANT).md
# make calibrate: injected slowdowns (sites and milliseconds per task) and A/A pairs
SITES ?= client,scheduler,worker
MS    ?= 0.1,1
AA    ?= 3

.PHONY: help install data distributed-repo machine check bench history bisect bisect-args load compare compare-ready paired profile profile-args profile-diff profile-diff-args noise ab calibrate detection \
        publish preview report browser test clean compare-args rev-arg

help:
	@echo "make bench [BENCH=regex] install, data ($(SIZE)), distributed repo, asv run of the newest commit, publish"
	@echo "make test               install, then the whole test suite"
	@echo "make history [RELEASES=\"A B\"] [LATEST=N] [ROUNDS=2]   measure every release without valid stored rounds"
	@echo "make bisect BENCH=<regex> GOOD=<rev> BAD=<rev> [FASTER=1]   the first commit that made BENCH slower (faster)"
	@echo "make load               the load benchmarks (100,000-task map/gather, 10,000 resubmissions)"
	@echo "make compare BASE=<rev> HEAD=<rev> [FACTOR=1.10] [ROUNDS=2] [BENCH=regex]   interleaved verdict"
	@echo "  (for CI: ./compare BASE HEAD, which exits 0 no regression, 1 regression, 2 error)"
	@echo "make paired BASE=<rev> HEAD=<rev> [BENCH=regex] [FACTOR=1.05]   both at once, blocks alternating: 5% changes"
	@echo "  (= make compare PAIRED=1; for CI: ./compare BASE HEAD --paired, exit 0, 1 or 2 as above)"
	@echo "make noise REV=<rev> [BENCH=regex]                               A/A run: the noise floor, the FACTOR"
	@echo "make calibrate REV=<rev> [AA=3] [SITES=client,scheduler,worker] [MS=0.1,1] [PAIRED=1]   detection matrix"
	@echo "make detection [MACHINE=vm]   per counted benchmark: the paired calibration at today's defaults"
	@echo "make profile BENCH=<regex> [REV=<rev>]    profiles/<benchmark>/<version>/index.html"
	@echo "make profile-diff BASE=<rev> HEAD=<rev> BENCH=<regex>   the phases and functions that changed"
	@echo "  (make compare ... PROFILE=1 profiles every regressed benchmark and links the diffs from compare.md;"
	@echo "   BUILD_ONLY=1 builds both sides and measures nothing: set up online, then compare offline)"
	@echo "make ab REV=<rev> [VARIANT=queuing|work-stealing|stealing-interval] [BENCH=regex]"
	@echo "make publish | preview [PORT=8080] | report"
	@echo "make install | data [SIZE=tiny|small|full] | distributed-repo | clean"

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

# DASK_BENCH_* settings and the data, checked before asv runs (one-line errors that name the fix).
check: install
	$(PY) -m dask_bench.host.preflight --config $(ASV_CONFIG)

bench: install data $(REPO_FOR_CONFIG) machine check
	$(PY) -m dask_bench.host.asv_run $(if $(BENCH),,--selection default) -- run --config $(ASV_CONFIG) --show-stderr \
	  --record-samples $(BENCH_ARGS) main^!
	$(MAKE) --no-print-directory report
	@$(PY) -m dask_bench.host.summary $(MACHINE_ARGS)
	@echo "HTML report: html/index.html and html/report/index.html (make preview serves them on 127.0.0.1)"

# Every release of the history without a valid stored result, oldest first; resumable.
history: install $(REPO_FOR_CONFIG) machine check
	$(PY) -m dask_bench.host.history --config $(ASV_CONFIG) --rounds $(ROUNDS) $(if $(RELEASES),--releases "$(RELEASES)") \
	  $(if $(LATEST),--latest $(LATEST)) $(BENCH_ARGS)

bisect-args:
	@test -n "$(BENCH)" -a -n "$(GOOD)" -a -n "$(BAD)" || \
	  { echo "usage: make bisect BENCH=<regex> GOOD=<rev> BAD=<rev> [FACTOR=1.10] [FASTER=1]"; exit 2; }

# The first commit between GOOD and BAD that made BENCH slower (a real repository: DISTRIBUTED_REPO);
# FASTER=1: the first that made it faster (GOOD the slower revision).
bisect: bisect-args compare-ready
	$(PY) -m dask_bench.host.bisection "$(BENCH)" "$(GOOD)" "$(BAD)" --factor $(FACTOR) --config $(ASV_CONFIG) \
	  --workdir $(COMPARE_DIR) $(if $(FASTER),--faster)

# The load benchmarks (100,000-task map, 10,000 resubmissions): minutes a sample, so not in make bench.
load: install data $(REPO_FOR_CONFIG) machine check
	$(PY) -m dask_bench.host.asv_run --selection load -- run --config $(ASV_CONFIG) --show-stderr --record-samples main^!
	@$(PY) -m dask_bench.host.summary $(MACHINE_ARGS)

# The argument checks come first, so a missing argument fails before anything is installed or run.
compare-args:
	@test -n "$(BASE)" -a -n "$(HEAD)" || { echo "usage: make $(MAKECMDGOALS) BASE=<rev> HEAD=<rev> [FACTOR=…] [BENCH=regex]"; exit 2; }
rev-arg:
	@test -n "$(REV)" || { echo "usage: make $(MAKECMDGOALS) REV=<rev> [BENCH=regex]"; exit 2; }

# Everything a measurement needs; ./compare (the CI command) runs this, then the compare tool itself.
compare-ready: install $(REPO_FOR_CONFIG) machine check

# make exits 2 for any failed recipe, a regression included: CI should call ./compare (0, 1 or 2).
# PAIRED=1: the same as make paired (both revisions at once).
compare: compare-args compare-ready
	$(if $(filter 1,$(PAIRED)),$(PAIRED_TOOL); exit $$?;) \
	$(PY) -m dask_bench.host.compare "$(BASE)" "$(HEAD)" --factor $(FACTOR) --rounds $(ROUNDS) --config $(ASV_CONFIG) \
	  --workdir $(COMPARE_DIR) --markdown $(COMPARE_MD) $(BENCH_ARGS) $(if $(STORED_BASE),--stored-base "$(STORED_BASE)" \
	  $(if $(MACHINE),--stored-machine "$(MACHINE)")) $(if $(filter 1,$(PROFILE)),--profile) $(if $(filter 1,$(BUILD_ONLY)),--build-only)

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

noise: rev-arg compare-ready
	$(PY) -m dask_bench.host.noise "$(REV)" --factor $(FACTOR) --rounds $(ROUNDS) --config $(ASV_CONFIG) \
	  --workdir $(NOISE_DIR) $(BENCH_ARGS)

ab: rev-arg compare-ready
	$(PY) -m dask_bench.host.ab "$(REV)" --variant $(VARIANT) --factor $(FACTOR) --rounds $(ROUNDS) \
	  --config $(ASV_CONFIG) --workdir $(AB_DIR) --markdown $(AB_MD) $(BENCH_ARGS)

calibrate: rev-arg compare-ready
	$(PY) -m dask_bench.host.calibrate "$(REV)" --aa $(AA) --sites "$(SITES)" --ms "$(MS)" \
	  $(if $(filter 1,$(PAIRED)),--paired $(PAIRED_FACTOR_ARG),--factor $(FACTOR)) \
	  --rounds $(ROUNDS) --config $(ASV_CONFIG) $(BENCH_ARGS)

# What the committed paired calibrations say about make paired as it is configured today
detection: install
	$(PY) -m dask_bench.host.calibrate --summary $(MACHINE_ARGS)

# Both revisions running at once, short blocks alternating: for the benchmarks where make compare's
# cluster-to-cluster noise hides 5-10% changes (submit latency, map/gather by default).
PAIRED_TOOL = $(PY) -m dask_bench.host.paired "$(BASE)" "$(HEAD)" $(PAIRED_FACTOR_ARG) --config $(ASV_CONFIG) \
	  --workdir $(COMPARE_DIR) $(BENCH_ARGS)
paired: compare-args compare-ready
	$(PAIRED_TOOL)

# asv's pages load scripts from CDNs; vendor makes the site work without internet.
# asv publish reads commit dates and tags from the repository: a fresh clone makes it first.
publish: install $(REPO_FOR_CONFIG)
	$(ASV) publish --config $(ASV_CONFIG)
	$(PY) -m dask_bench.host.vendor html

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

clean:
	rm -rf $(VENV) html profiles .pytest_cache compare.md paired.md noise.md ab-*.md calibration.md calibration.json calibration-paired.md calibration-paired.json paired.json
