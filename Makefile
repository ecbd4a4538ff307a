# usage-pricing — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/common/requirements.txt constraints.txt | cksum | cut -d' ' -f1)

.PHONY: venv test unit integration lint format typecheck bench clean evaluate-example

$(STAMP): requirements-dev.txt layers/common/requirements.txt constraints.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

venv: $(STAMP)

test: lint
	$(BIN)/pytest

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

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam

evaluate-example: venv
	@PYTHONPATH=layers/common POWERTOOLS_TRACE_DISABLED=1 POWERTOOLS_LOG_LEVEL=ERROR \
		$(BIN)/python -m tests.invoke evaluate events/evaluate.json
