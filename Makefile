# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-output

.PHONY: venv demo test clean

$(BIN)/deepsteg: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# the warden's rich-model detector: sealwatch without its declared torch/torchvision (see steganalysis/rich.py)
	$(BIN)/pip install --quiet --no-deps sealwatch==2025.9
	touch $@

venv: $(BIN)/deepsteg

demo: $(BIN)/deepsteg
	$(BIN)/python -m deepsteg.demo --out $(DEMO)

test: $(BIN)/deepsteg
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
