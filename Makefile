# Two commands on a fresh machine: `make bench` (set-up and the main job) and `make test`.
# Every target works from a fresh clone with only python3 and make present, and is idempotent.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ASV    := $(VENV)/bin/asv
STAMP  := $(VENV)/.installed
SIZE   ?= small
# make distributed-repo: DISTRIBUTED_RELEASES="2026.7.1 2026.8.0" picks releases, DISTRIBUTED_REPO=<path or URL>
# mirrors a real repository instead (both read from the environment by dask_bench.release_history).
export DISTRIBUTED_RELEASES DISTRIBUTED_REPO
DISTRIBUTED_REPO_PATH ?= .asv/distributed

.PHONY: help install data distributed-repo machine check bench test clean

help:
	@echo "make bench              install, data ($(SIZE)), distributed repo, asv run of the newest commit, publish"
	@echo "make test               install, then the whole test suite"
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
	$(PY) -m dask_bench.release_history --path $(DISTRIBUTED_REPO_PATH)

# asv keys results by machine; --yes takes the defaults (hostname, cpu, ram) without asking.
machine: install
	$(ASV) machine --yes > /dev/null

# DASK_BENCH_* settings and the data, checked before asv runs (one-line errors that name the fix).
check: install
	$(PY) -m dask_bench.settings

bench: install data distributed-repo machine check
	$(ASV) run --show-stderr main^!
	$(ASV) publish
	@$(PY) -m dask_bench.summary
	@echo "HTML report: html/index.html (make preview serves it on 127.0.0.1)"

test: install
	$(PY) -m pytest

clean:
	rm -rf $(VENV) html .pytest_cache
