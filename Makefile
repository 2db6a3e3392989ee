# Āwhina: `make run` to chat, `make test` for the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SPACY := models/spacy-awhina/meta.json
MODEL := models/current.tar.gz
TRAIN_INPUTS := config.yml domain.yml bot/nlu/components.py \
	$(shell find data/nlu data/stories data/rules -name '*.yml' 2>/dev/null)
export TF_CPP_MIN_LOG_LEVEL := 2
# Rasa's usage telemetry is on by default; Āwhina sends nothing it does not need to.
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: venv train db run test test-clocks lint env

$(STAMP): pyproject.toml
	@set -e; if [ ! -x $(PY) ]; then PY310=$$(scripts/find-python); echo "Creating $(VENV) with $$PY310"; "$$PY310" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

# Settings and secrets for local runs; .env is git-ignored.
.env:
	@sed -e "s/^RASA_TOKEN=.*/RASA_TOKEN=$$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')/" \
		-e "s/^SMS_SENDER_SECRET=.*/SMS_SENDER_SECRET=$$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')/" \
		.env.example > $@
	@echo "Created .env with a fresh RASA_TOKEN and SMS_SENDER_SECRET"

env: .env

$(SPACY): $(STAMP) data/directory/places.yml data/directory/taxonomy.yml bot/nlu/spacy_pipeline.py bot/reo/normalise.py
	$(PY) -m bot spacy build

# Rasa itself skips retraining when nothing changed; make skips even starting it.
$(MODEL): $(SPACY) $(TRAIN_INPUTS)
	$(PY) -m rasa train --config config.yml --domain domain.yml \
		--data data/nlu data/stories data/rules --out models --fixed-model-name current
	@touch $@

train: $(MODEL)

db: $(STAMP)
	$(PY) -m bot directory load --quiet

run: train db .env
	@echo
	@$(PY) -m bot navigator demo
	@echo
	@echo "  Chat with Āwhina:   http://127.0.0.1:$${WEB_PORT:-8000}/"
	@echo "  Navigators' inbox:  http://127.0.0.1:$${INBOX_PORT:-8001}/"
	@echo "  Rasa HTTP API:      http://127.0.0.1:5005/ (token in .env)"
	@echo "  Ctrl-C stops everything."
	@echo
	$(VENV)/bin/honcho start -f Procfile

# The whole suite runs with the clock frozen at 22:05 on a Saturday in New Zealand
# (tests/conftest.py, unless AWHINA_FROZEN_TIME is set); test-clocks runs the tests that
# start no servers again at 10:00 on a Tuesday.
TUESDAY_MORNING := 2026-12-01T10:00:00+13:00

test: train lint
	$(PY) -m pytest
	@$(MAKE) --no-print-directory test-clocks

test-clocks: train
	AWHINA_FROZEN_TIME=$(TUESDAY_MORNING) $(PY) -m pytest -m "not e2e" --ignore=tests/browser

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# End-to-end benchmark against Rasa's stock starter bot (bench/); results in bench/results/.
# BENCH_QUICK=1 for a shorter run; BENCH_LABEL names the result files (default latest).
.PHONY: bench
bench: train
	$(PY) -m bench
