# The README's two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= .rag
PORT ?= 7860
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

.PHONY: install install-test run test clean model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned: otherwise pip pulls a multi-GB CUDA build
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

# the browser tests drive Debian's chromium through Playwright (never `playwright install`)
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# ingest is incremental: a second `make run` skips the unchanged sample in seconds
run: install
	$(BIN)/rag ingest data/sample --data-dir $(DATA_DIR)
	$(BIN)/rag serve --data-dir $(DATA_DIR) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest -q

# Retrain the committed relevance model from the shared corpora (about 2 h on 2 free cores;
# never run by `make test` or CI, which use the weights in models/). See models/*/MODEL_CARD.md.
SHARED_DATA ?= ../shared/data
MODEL_OUT ?= build/relevance
NICE ?= nice
model: install
	$(NICE) $(BIN)/python -m training mine --data-root $(SHARED_DATA) --out $(MODEL_OUT)
	$(NICE) $(BIN)/python -m training embed --out $(MODEL_OUT) --bank $(MODEL_BANK)
	$(NICE) $(BIN)/python -m training train query --name $(MODEL_RUN) --out $(MODEL_OUT) \
	  --steps $(MODEL_STEPS) --batch-size $(MODEL_BATCH) --lr $(MODEL_LR) --bank $(MODEL_BANK)
	$(BIN)/python -m training export query-encoder $(MODEL_OUT)/$(MODEL_RUN)/final.safetensors \
	  models/$(MODEL_NAME) --max-length 256
	$(NICE) $(BIN)/python -m training evaluate --out $(MODEL_OUT) \
	  --query $(MODEL_NAME)=models/$(MODEL_NAME)/model.safetensors

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache
