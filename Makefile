# The two commands of the README: `make run` (the whole demo) and `make test`
# (the whole suite). Both build what they need first: the virtualenv with the
# pinned packages, and Debian's packages (scripts/ensure-packages, apt-get as
# root): nginx for both (it fronts the web app), chromium + chromium-driver for tests,
# mosquitto for the DJI bridge's tests.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench browser system-run system-test clean

run: $(STAMP) system-run
	$(PY) app.py

test: $(STAMP) system-test
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/ingest.py

system-run:
	@scripts/ensure-packages nginx

# mosquitto: the DJI bridge's tests run a real MQTT broker (issue 13).
system-test:
	@scripts/ensure-packages nginx chromium chromium-driver mosquitto

browser:
	@scripts/ensure-packages chromium chromium-driver

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
