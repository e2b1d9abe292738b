# Two commands do all set-up on a fresh machine:
#   make lab    create .venv if missing, install the learner's pinned packages and helpers, start JupyterLab
#   make test   the same set-up plus the test packages, then the whole suite (unit tests, then strict nbval)
# Set-up is re-run only when a requirements file or pyproject.toml changed.
# TORCH=cpu (make lab TORCH=cpu, make test TORCH=cpu): torch from PyTorch's CPU-only wheel index
# (about 200 MB instead of several GB of CUDA libraries on Linux); everything else from PyPI as usual.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
LAB_STAMP := $(VENV)/.installed-lab
DEV_STAMP := $(VENV)/.installed-dev
PORT   ?= 8888
JOBS   ?= 2
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
TORCH  ?=
TORCH_PIN := $(shell grep -E '^torch==' requirements.txt)
CPU_WHEELS := https://download.pytorch.org/whl/cpu
ifneq ($(filter-out cpu,$(TORCH)),)
$(error TORCH=$(TORCH): the only choice is TORCH=cpu (or leave it unset for PyPI's default build))
endif

.PHONY: setup lab test test-unit test-notebooks test-browser student grade bench execute nav clean

setup: $(LAB_STAMP)

# The learner's set-up: requirements.txt and the course's helpers package.
$(LAB_STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(if $(filter cpu,$(TORCH)),$(PIP) "$(TORCH_PIN)" --index-url $(CPU_WHEELS))
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	touch $@

# Tests, grading and benchmarks add requirements-dev.txt.
$(DEV_STAMP): $(LAB_STAMP) requirements-dev.txt
	$(PIP) -r requirements.txt -r requirements-dev.txt
	touch $@

# Root (containers, CI) must say --allow-root; everyone else must not need to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks $(ALLOW_ROOT)

test: test-unit test-notebooks

test-unit: $(DEV_STAMP)
	$(PY) -m pytest tests --ignore=tests/browser -n $(JOBS)

test-notebooks: $(DEV_STAMP)
	$(PY) -m pytest $(NBVAL) notebooks -n $(JOBS) --dist loadfile

# Benchmarks: performance goals live here, not in timed unit tests.
bench: $(DEV_STAMP)
	$(PY) benchmarks/bench_checks.py
	$(PY) benchmarks/bench_grading.py --students 4

# Re-execute every notebook in place and store its outputs (after editing a notebook).
execute: $(DEV_STAMP)
	$(PY) -m helpers.notebooks execute notebooks/*.ipynb

# Regenerate the prev | index | next links in every notebook.
nav: $(DEV_STAMP)
	$(PY) -m helpers.notebooks nav notebooks/*.ipynb

clean:
	rm -rf $(VENV) dist artifacts .pytest_cache

# Instructors (helpers/grading): the student release, and a class graded into a gradebook.
# Every kernel runs in a bubblewrap sandbox (bwrap from requirements-dev.txt); GRADE_ARGS adds options,
# e.g. GRADE_ARGS=--no-sandbox where none can be made (see README, "Sandbox").
SUBMISSIONS ?= submissions
GRADES      ?= grades
GRADE_ARGS  ?=
student: $(DEV_STAMP)
	$(PY) -m helpers.grading release --out dist/student

grade: $(DEV_STAMP)
	$(PY) -m helpers.grading grade $(SUBMISSIONS) --out $(GRADES) $(GRADE_ARGS)

# Every notebook run as a learner runs it: real JupyterLab in headless Chromium (tests/browser).
# Installs Debian's chromium when missing and run as root; REQUIRE_BROWSER=1 makes a missing
# browser (or any skipped browser test) a failure. Screenshots: artifacts/browser/.
test-browser: $(DEV_STAMP)
	bash tests/browser/install-chromium.sh
	$(PY) -m pytest tests/browser -p no:xdist
