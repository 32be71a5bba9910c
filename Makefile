# The two commands of the README: `make run` (the whole demo) and `make test`
# (the whole suite). Both build what they need first: the virtualenv with the
# pinned packages, and for tests Debian's chromium + chromium-driver.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench browser clean

run: $(STAMP)
	$(PY) app.py

test: $(STAMP) browser
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/ingest.py

browser:
	@scripts/ensure-browser

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
