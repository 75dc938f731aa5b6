# Two commands on a fresh machine: `make local` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install tools local test synth bench clean

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)

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

local: install
	$(PY) -m local

test: install tools
	$(PY) -m pytest

synth: install
	CDK_OUTDIR=cdk.out $(PY) app.py

bench: install
	$(PY) -m bench

clean:
	rm -rf cdk.out .build
