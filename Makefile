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

# Train the query adapter from the shared corpora into $(MODEL_OUT)/export/$(MODEL_NAME) (mining
# ~30 min, embedding 6,000 passages and 10,000 queries ~1 h on 2 free cores, training minutes;
# never run by `make test` or CI). Not committed: it did not earn it (bench/RESULTS.md, "Query
# adapter"); `RAG_QUERY_ADAPTER=$(MODEL_OUT)/export/$(MODEL_NAME)` turns it on for search queries.
SHARED_DATA ?= ../shared/data
MODEL_OUT ?= build/relevance
MODEL_NAME ?= statements-query-adapter
MODEL_RUN ?= adapter-final-e10
MODEL_BANK ?= 6000
MODEL_SCALE ?= 0.7
NICE ?= nice
model: install
	$(NICE) $(BIN)/python -m training mine --data-root $(SHARED_DATA) --out $(MODEL_OUT)
	$(NICE) $(BIN)/python -m training embed --out $(MODEL_OUT) --bank $(MODEL_BANK)
	$(NICE) $(BIN)/python -m training train adapter --name $(MODEL_RUN) --out $(MODEL_OUT) \
	  --epochs 10 --batch-size 256 --lr 1e-3 --weight-decay 0.01 --bank $(MODEL_BANK)
	$(BIN)/python -m training export query-adapter $(MODEL_OUT)/$(MODEL_RUN)/final.safetensors \
	  $(MODEL_OUT)/export/$(MODEL_NAME) --scale $(MODEL_SCALE)
	$(NICE) $(BIN)/python -m training evaluate --out $(MODEL_OUT) \
	  --adapter $(MODEL_NAME)=$(MODEL_OUT)/export/$(MODEL_NAME)/model.safetensors
	$(BIN)/python -m training card $(MODEL_OUT)/export/$(MODEL_NAME) --out $(MODEL_OUT) --command "make model"

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache
