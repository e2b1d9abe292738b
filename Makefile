# Two commands do all set-up on a fresh machine:
#   make lab    create .venv if missing, install the learner's pinned packages and helpers, start JupyterLab
#   make test   the same set-up plus the test packages, then the whole suite (unit tests, then strict nbval)
# The learner's part (setup, lab, TORCH=cpu) is lab.mk, which the student release ships as its Makefile.

include lab.mk

DEV_STAMP := $(VENV)/.installed-dev
JOBS   ?= 2
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: test lint test-unit test-slow test-notebooks test-gpu test-browser student grade bench execute nav book

# Tests, grading and benchmarks add requirements-dev.txt.
$(DEV_STAMP): $(LAB_STAMP) requirements-dev.txt
	$(PIP) -r requirements.txt -r requirements-dev.txt
	touch $@

test: lint test-unit test-notebooks

# ruff over the code (book/ is the website's Sphinx settings) and the notebooks (rules in pyproject.toml; the broken fixtures are excluded).
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check helpers tests benchmarks notebooks book

# Unit tests; those marked slow (pyproject.toml) are left to test-slow, which CI runs as a step of its own.
test-unit: $(DEV_STAMP)
	$(PY) -m pytest tests --ignore=tests/browser -m "not slow" -n $(JOBS) --dist loadfile

test-slow: $(DEV_STAMP)
	$(PY) -m pytest tests --ignore=tests/browser -m slow -n $(JOBS) --dist loadfile

test-notebooks: $(DEV_STAMP)
	$(PY) -m pytest $(NBVAL) notebooks -n $(JOBS) --dist loadfile

# The same nbval suite on a CUDA machine, with the CUDA code paths taken (04 times the GPU), and the
# grader's tests (its kernels see no GPU). Refuses at once, exit 1, where torch sees no CUDA GPU.
test-gpu: $(DEV_STAMP)
	$(PY) -m helpers.environment
	$(PY) -m pytest $(NBVAL) notebooks -n $(JOBS) --dist loadfile
	$(PY) -m pytest tests/test_grading_grade.py -n $(JOBS)
	$(PY) -m pytest tests/test_checks_nb04.py -n 0 -k cuda  # rules a CPU cannot show (04.3 on a GPU tensor)

# Benchmarks: performance goals live here, not in timed unit tests.
bench: $(DEV_STAMP)
	$(PY) benchmarks/run.py

# Re-execute every notebook in place and store its outputs (after editing a notebook).
execute: $(DEV_STAMP)
	$(PY) -m helpers.notebooks execute notebooks/*.ipynb

# Regenerate the prev | index | next links in every notebook.
nav: $(DEV_STAMP)
	$(PY) -m helpers.notebooks nav notebooks/*.ipynb

clean::
	rm -rf dist artifacts .pytest_cache

# Instructors (helpers/grading): the student release, and a class graded into a gradebook.
# Every kernel runs in a bubblewrap sandbox (bwrap from requirements-dev.txt; docs/grading.md, "The sandbox"):
# GRADE_ARGS=--no-sandbox only where none can be made.
SUBMISSIONS ?= submissions
GRADES      ?= grades
GRADE_ARGS  ?=
# e.g. make grade SUBMISSIONS=class GRADES=grades GRADE_ARGS="--only ann bob --roster roster.csv"
student: $(DEV_STAMP)
	$(PY) -m helpers.grading release --out dist/student

# The course as a static website in dist/book (helpers/book.py; README, "The course as a website"):
# the student release's notebooks with their stored outputs, nothing re-executed, nothing from the network.
book: $(DEV_STAMP)
	$(PY) -m helpers.book --out dist/book

grade: $(DEV_STAMP)
	$(PY) -m helpers.grading grade $(SUBMISSIONS) --out $(GRADES) $(GRADE_ARGS)

# Every notebook run as a learner runs it: real JupyterLab in headless Chromium (tests/browser).
# Installs Debian's chromium when missing and run as root; REQUIRE_BROWSER=1 makes a missing
# browser (or any skipped browser test) a failure. Screenshots: artifacts/browser/.
test-browser: $(DEV_STAMP)
	bash tests/browser/install-chromium.sh
	$(PY) -m pytest tests/browser -p no:xdist
