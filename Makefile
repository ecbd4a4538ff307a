# usage-pricing — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/common/requirements.txt constraints.txt | cksum | cut -d' ' -f1)

SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1

.PHONY: audit dashboard-vendor dashboard-vendor-check dashboard-screenshot browser-deps browser-test first-task security-scan test-py313 soak fuzz sam-validate sam-build venv test unit integration lint format typecheck bench clean evaluate-example dev api-key revoke-key

# The stamp's name is the requirements' checksum, so a change to them makes a new venv; not their
# mtimes (a fresh checkout or worktree beside a current venv must not delete it under a test run).
$(STAMP):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

venv: $(STAMP)

# Every behaviour, in about five minutes (bench/README.md, "Test suite time"): the suite, on two
# processes (pytest-xdist; a test file stays on one, so its module-scoped worlds are built once),
# then the browser tests (headless Chromium) in their own run and report. The full soak and the
# deep fuzz (marker slow) are make soak and make fuzz, which .ci/run also runs.
TEST_PROCESSES ?= 2
test: lint
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile -m "not browser and not slow"
	$(MAKE) browser-test

unit: venv
	$(BIN)/pytest tests/unit

integration: venv
	$(BIN)/pytest tests/integration

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv
	$(BIN)/mypy

# BENCH=<section …> runs only those sections of the table (bench/__main__.py SECTIONS).
bench: venv
	PYTHONPATH=layers/common $(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam

evaluate-example: venv
	@PYTHONPATH=layers/common POWERTOOLS_TRACE_DISABLED=1 POWERTOOLS_LOG_LEVEL=ERROR \
		$(BIN)/python -m tests.invoke evaluate events/evaluate.json

dev: venv
	PYTHONPATH=layers/common $(BIN)/python -m local

api-key: venv
	@test -n "$(TEAM)" -a -n "$(SCOPES)" || { echo "usage: make api-key TEAM=<team> SCOPES='<scopes>' [STACK=<stack>]"; exit 2; }
	@PYTHONPATH=layers/common $(BIN)/python -m local.api_key create --team "$(TEAM)" --scopes "$(SCOPES)"

revoke-key: venv
	@test -n "$(KEY)" || { echo "usage: make revoke-key KEY=inf_… [STACK=<stack>]"; exit 2; }
	@PYTHONPATH=layers/common $(BIN)/python -m local.api_key revoke --key "$(KEY)"

# docs/operations.md: prices every record of the window again, recomputes every aggregate, exit 1 on drift.
# START/END (RFC 3339 or a date) and STACK (a deployed stack instead of the local one) optional.
audit: venv
	@test -n "$(TEAM)" || { echo "usage: make audit TEAM=<team> [START=<RFC 3339 or date>] [END=…] [STACK=<stack>]"; exit 2; }
	@PYTHONPATH=layers/common POWERTOOLS_LOG_LEVEL=ERROR $(BIN)/python -m local.audit --team "$(TEAM)"

# events/put-events.json stamped with the current time, for the README's first deployed task.
first-task: venv
	@$(BIN)/python -m local.first_task $(if $(TASK),--task-id "$(TASK)")

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0

sam-validate: $(SAM)
	$(SAM_ENV) $(SAM) validate --lint

# No Docker: the layer's makefile build cross-installs python3.13/arm64 wheels.
sam-build: $(SAM)
	PY313="$(PY313)" $(SAM_ENV) $(SAM) build --parallel
	@test -f .aws-sam/build/CommonLayer/python/usage_pricing/__pycache__/__init__.cpython-313.pyc || { echo "sam-build: the layer has no Python 3.13 bytecode (see layers/common/Makefile)" >&2; exit 1; }

# The full soak: 10,000 deliveries, 30% duplicates, 8 workers, injected throttling and timeouts
# (make test runs the same test bounded to 100 deliveries).
soak: venv
	SOAK_DELIVERIES=10000 $(BIN)/pytest -q -m slow tests/integration/test_faults.py -k soak

# The deep fuzz: the API fuzz at FUZZ_SLOW_EXAMPLES (300) cases per route against the local stack,
# and every depth-scaled property test (tests/conftest.py examples()) FUZZ_DEPTH times deeper
# than make test runs it.
FUZZ_DEPTH ?= 5
FUZZ_TESTS := tests/fuzz tests/unit/test_reproducible.py
fuzz: venv
	FUZZ_SLOW=1 FUZZ_DEPTH=$(FUZZ_DEPTH) $(BIN)/pytest -q -m "not browser" $(FUZZ_TESTS)

# The dashboard's charting library: pinned in web/package-lock.json, vendored (committed) into the
# function's static files with a checksum list that a test holds the files to. This target
# re-fetches it from the lockfile through npm; dashboard-vendor-check shows it reproduces.
DASHBOARD_STATIC := functions/dashboard/static
VENDORED := chart.umd.min.js chart.js.LICENSE.md

dashboard-vendor:
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	cp web/node_modules/chart.js/dist/chart.umd.min.js $(DASHBOARD_STATIC)/chart.umd.min.js
	cp web/node_modules/chart.js/LICENSE.md $(DASHBOARD_STATIC)/chart.js.LICENSE.md
	cd $(DASHBOARD_STATIC) && sha256sum $(VENDORED) > VENDORED.sha256

dashboard-vendor-check:
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	cmp web/node_modules/chart.js/dist/chart.umd.min.js $(DASHBOARD_STATIC)/chart.umd.min.js
	cmp web/node_modules/chart.js/LICENSE.md $(DASHBOARD_STATIC)/chart.js.LICENSE.md
	cd $(DASHBOARD_STATIC) && sha256sum -c VENDORED.sha256

# Browser tests drive Debian's Chromium (headless) through Playwright; installed here if missing.
CHROMIUM ?= /usr/bin/chromium
BROWSER_REPORT ?= build/browser

browser-deps:
	@test -x $(CHROMIUM) || { apt-get update -qq && apt-get install -y -qq chromium; }

browser-test: venv browser-deps
	mkdir -p $(BROWSER_REPORT)
	CHROMIUM=$(CHROMIUM) BROWSER_REPORT=$(BROWSER_REPORT) $(BIN)/pytest -m browser tests/browser --junitxml=$(BROWSER_REPORT)/report.xml

# The README's screenshot of the dashboard, taken by the browser tests from the demo data.
dashboard-screenshot: venv browser-deps
	DASHBOARD_README_SCREENSHOT=$(CURDIR)/docs/dashboard.png CHROMIUM=$(CHROMIUM) BROWSER_REPORT=$(BROWSER_REPORT) \
		$(BIN)/pytest -q -m browser tests/browser -k test_the_spend_chart_totals_the_api_total

# CloudFormation security scan (docs/operations.md): every finding is fixed in template.yaml or skipped there
# (Metadata: checkov: skip) with a one-line reason; any other finding fails this target.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

$(CHECKOV):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $(CHECKOV)

security-scan: $(CHECKOV)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet \
		--skip-download

# The whole suite again on Python 3.13, the Lambda runtime's (docs/operations.md), in its own virtualenv.
# PY313 defaults to pyenv's newest 3.13, else python3.13 on PATH; without one this fails.
PY313 ?= $(or $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python))),$(shell command -v python3.13 2>/dev/null))
VENV313 := .venv-py313

test-py313:
	@test -n "$(PY313)" || { echo "test-py313: no Python 3.13 interpreter: none on PATH as python3.13 nor in ~/.pyenv/versions/3.13.*; install one (pyenv install 3.13) or pass PY313=/path/to/python3.13" >&2; exit 1; }
	@$(PY313) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' || { echo "test-py313: $(PY313) is not Python 3.13" >&2; exit 1; }
	$(MAKE) --no-print-directory VENV=$(VENV313) PYTHON=$(PY313) venv
	$(VENV313)/bin/python --version
	$(VENV313)/bin/pytest -m "not slow"
