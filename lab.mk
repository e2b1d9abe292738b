# The learner's set-up and `make lab`: included by the course's Makefile, and shipped as the
# Makefile of the student release (make student), so both set up JupyterLab the same way.
#   make lab    create .venv if missing, install requirements.txt and helpers, start JupyterLab
# Set-up is re-run only when requirements.txt, pyproject.toml or the shipped settings changed.
# TORCH=cpu (make lab TORCH=cpu): torch from PyTorch's CPU-only wheel index (about 200 MB instead
# of several GB of CUDA libraries on Linux); everything else from PyPI as usual.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
PORT   ?= 8888
LAB_STAMP := $(VENV)/.installed-lab
# JupyterLab settings the course ships (no news or update prompt on first start), as an app-level override.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.d/pytorch-first-principles.json
TORCH  ?=
TORCH_PIN := $(shell grep -E '^torch==' requirements.txt)
CPU_WHEELS := https://download.pytorch.org/whl/cpu
ifneq ($(filter-out cpu,$(TORCH)),)
$(error TORCH=$(TORCH): the only choice is TORCH=cpu (or leave it unset for PyPI's default build))
endif

.PHONY: setup lab clean

setup: $(LAB_STAMP)

$(LAB_STAMP): requirements.txt pyproject.toml helpers/jupyterlab_settings.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(if $(filter cpu,$(TORCH)),$(PIP) "$(TORCH_PIN)" --index-url $(CPU_WHEELS))
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	mkdir -p $(dir $(LAB_SETTINGS)) && cp helpers/jupyterlab_settings.json $(LAB_SETTINGS)
	touch $@

# Root (containers, CI) must say --allow-root; everyone else must not need to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks $(ALLOW_ROOT)

clean::
	rm -rf $(VENV)
