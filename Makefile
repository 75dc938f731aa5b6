# Two commands on a fresh machine: `make local` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
LOCAL_INSTALLED := $(VENV)/.installed-local
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install install-local lock tools local lint unit test synth bench clean

# The runtime libraries come from requirements.lock, the same versions the Lambda layer ships.
$(INSTALLED): requirements.txt requirements.lock requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock
	touch $(INSTALLED)

install: $(INSTALLED)

# `make local` needs only the runtime libraries (the subscriber's verifier, standardwebhooks, is one), the embedded
# AWS (moto), the HTTP server (werkzeug) and the WebSocket server (websockets), versions from requirements-dev.txt;
# `make test` still installs everything.
LOCAL_PACKAGES := $(shell grep -E '^(moto\[|werkzeug==|websockets==)' requirements-dev.txt)
$(LOCAL_INSTALLED): requirements.txt requirements.lock requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "make local: installing into $(VENV) the hub's runtime libraries (requirements.txt, pinned by requirements.lock)"
	@echo "            and $(LOCAL_PACKAGES): about a minute with a warm pip cache, a few minutes on a first run"
	$(PY) -m pip install --disable-pip-version-check --progress-bar off --no-compile -r requirements.txt $(foreach p,$(LOCAL_PACKAGES),'$(p)') -c requirements.lock
	@touch $(LOCAL_INSTALLED) && echo "make local: installed; starting the hub"

install-local: $(if $(wildcard $(INSTALLED)),$(INSTALLED),$(LOCAL_INSTALLED))

# After editing requirements.txt: re-resolve it into requirements.lock (needs PyPI), then `make install`.
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $$(grep '^packaging==' requirements-dev.txt)
	$(PY) -m infra.lock

# zbarimg decodes the hub's QR PNGs back in the round-trip test (Debian's zbar-tools);
# headless Chromium and its driver (Debian's chromium, chromium-driver) run the connect page's browser tests.
tools:
	@command -v zbarimg >/dev/null 2>&1 || { \
	  echo "installing zbar-tools for the QR round-trip test"; \
	  (apt-get install -y -qq zbar-tools >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq zbar-tools >/dev/null 2>&1)) || \
	  echo "zbar-tools could not be installed: the QR round-trip test will be skipped"; }
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { \
	  echo "installing chromium and chromium-driver for the connect page's browser tests"; \
	  (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1)) || \
	  echo "chromium could not be installed: the browser tests (tests/browser) will be skipped"; }

local: install-local
	$(PY) -m local

# Formatter check, linter, type checker and import contract (pyproject.toml); `make test` runs them first.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	PYTHONPATH=.:layers/hub/python $(VENV)/bin/lint-imports

# The fast lane: the pure tests (no embedded AWS, no CDK, no browser; markers in pytest.ini).
# Directories with none are not even collected (CDK, Selenium and schemathesis take seconds to load).
unit: install
	$(PY) -m pytest -q -m "not aws and not infra and not browser" -p no:schemathesis \
	  --ignore=tests/infra --ignore=tests/browser --ignore=tests/contract

test: install lint tools
	$(PY) -m pytest

synth: install
	CDK_OUTDIR=cdk.out $(PY) app.py

bench: install
	$(PY) -m bench

clean:
	rm -rf cdk.out .build
