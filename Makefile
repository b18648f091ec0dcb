# Two commands on a fresh machine: `make bench` (set-up and the main job) and `make test`.
# Every target works from a fresh clone with only python3 and make present, and is idempotent.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SIZE   ?= small

.PHONY: install data bench test clean help

help:
	@echo "make bench   install, generate data ($(SIZE)), run the asv suite, publish the report"
	@echo "make test    install, then run the whole test suite"
	@echo "make install | make data [SIZE=tiny|small|full] | make clean"

install: $(STAMP)

# Re-install only when the declared dependencies change: a second `make install` does nothing.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

data: install
	$(PY) -m data_prep --size $(SIZE)

bench: install data

test: install
	$(PY) -m pytest

clean:
	rm -rf $(VENV) html .pytest_cache
