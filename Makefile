# Two commands do all set-up on a fresh machine:
#   make lab    create .venv if missing, install the pinned requirements and helpers, start JupyterLab
#   make test   the same set-up, then the whole suite (unit tests, then strict nbval on every notebook)
# Set-up is re-run only when requirements.txt or pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888
JOBS   ?= 2
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup lab test test-unit test-notebooks test-browser student grade bench execute nav clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Root (containers, CI) must say --allow-root; everyone else must not need to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks $(ALLOW_ROOT)

test: test-unit test-notebooks

test-unit: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/browser -n $(JOBS)

test-notebooks: $(STAMP)
	$(PY) -m pytest $(NBVAL) notebooks -n $(JOBS) --dist loadfile

# Benchmarks: performance goals live here, not in timed unit tests.
bench: $(STAMP)
	$(PY) benchmarks/bench_checks.py
	$(PY) benchmarks/bench_grading.py --students 4

# Re-execute every notebook in place and store its outputs (after editing a notebook).
execute: $(STAMP)
	$(PY) -m helpers.notebooks execute notebooks/*.ipynb

# Regenerate the prev | index | next links in every notebook.
nav: $(STAMP)
	$(PY) -m helpers.notebooks nav notebooks/*.ipynb

clean:
	rm -rf $(VENV) dist artifacts .pytest_cache

# Instructors (helpers/grading): the student release, and a class graded into a gradebook.
SUBMISSIONS ?= submissions
GRADES      ?= grades
student: $(STAMP)
	$(PY) -m helpers.grading release --out dist/student

grade: $(STAMP)
	$(PY) -m helpers.grading grade $(SUBMISSIONS) --out $(GRADES)

# Every notebook run as a learner runs it: real JupyterLab in headless Chromium (tests/browser).
# Installs Debian's chromium when missing and run as root; REQUIRE_BROWSER=1 makes a missing
# browser (or any skipped browser test) a failure. Screenshots: artifacts/browser/.
test-browser: $(STAMP)
	bash tests/browser/install-chromium.sh
	$(PY) -m pytest tests/browser -p no:xdist
