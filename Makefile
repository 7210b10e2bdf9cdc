# Label Auditor — `make demo` runs the product on embedded defaults, `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_CLIPS ?= 300
# The demo's first audit: 3 folds × at most 12 epochs, about two minutes on a busy two-core laptop (docs/benchmarks.md);
# audits started later from the runs page or `audit` take the defaults (5 folds × 45 epochs).
DEMO_FOLDS ?= 3
DEMO_EPOCHS ?= 12
# One PyTorch thread for the demo's runs: a laptop does other things meanwhile, and a busy core stalls a two-thread
# training (docs/benchmarks.md); set TRAIN_THREADS=0 for PyTorch's own choice.
TRAIN_THREADS ?= 1

.PHONY: install demo test lint clean-demo

# torch first and pinned: the CPU build from local disk; an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	# The realistic corpus's sampled instruments: TinySoundFont and the General-MIDI bank inside pretty_midi's wheel,
	# without their dependencies (pyaudio is for live playback and needs a system library).
	$(PY) -m pip install --quiet --no-deps tinysoundfont==0.3.7 pretty_midi==0.2.11.post0
	touch $@

install: $(VENV)/.installed

# Web, workers and scheduler together; the bundled Redis unless REDIS_URL is set; the first audit of the demo.
demo: install
	DEMO=1 $(PY) manage.py setup_demo --clips $(DEMO_CLIPS) --url http://$(HOST):$(PORT)/
	DEMO=1 TRAIN_THREADS=$(TRAIN_THREADS) $(PY) manage.py run_local --host $(HOST) --port $(PORT) --audit demo \
		--audit-folds $(DEMO_FOLDS) --audit-epochs $(DEMO_EPOCHS)

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean-demo:
	rm -rf data/demo-corpus data/auditor.sqlite3* data/runs data/features data/redis.db*
