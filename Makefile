# The two commands of the README: `make run` (the whole demo) and `make test`
# (the whole suite). Both build what they need first: the virtualenv with the
# pinned packages (and, for tests, node_modules with eslint), and Debian's packages
# (scripts/ensure-packages, apt-get as root): nginx for both (it fronts the web app),
# chromium + chromium-driver for tests, mosquitto for the DJI bridge's tests.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The browser scripts' lint and unit tests (eslint, Node's built-in test runner): package-lock.json pins them.
NODE_STAMP := node_modules/.installed

.PHONY: run test bench browser system-run system-test clean

run: $(STAMP) system-run
	$(PY) app.py

test: $(STAMP) system-test $(NODE_STAMP)
	npx --no-install eslint assets tests/js
	node --test tests/js/
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

$(NODE_STAMP): package.json package-lock.json
	@scripts/ensure-packages nodejs npm
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .hypothesis
