# Āwhina: `make run` to chat, `make test` for the whole suite; `make` lists the targets.
SHELL := /bin/bash
# A step piped through QUIET fails when the step fails, not only when the filter does.
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help
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
# Leaves out other projects' known warnings (data/run/quiet.yml says which, and why).
QUIET := $(PY) -m bot quiet

.PHONY: help venv train db run test test-fast test-clocks lint env

help: ## this list
	@echo "Āwhina: make <target>"
	@sed -n -E 's/^([a-z-]+):.*## (.*)$$/  \1\t\2/p' $(MAKEFILE_LIST) | expand -t 16

# pip's output is kept until the install is done: the filter needs the packages it installs.
$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then PY310=$$(scripts/find-python) && echo "==> Creating the environment ($(VENV), $$PY310)" && "$$PY310" -m venv $(VENV); fi
	@echo "==> Installing the pinned dependencies (pyproject.toml; minutes the first time)"
	@$(PY) -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 \
		&& $(PY) -m pip install --quiet -e '.[dev]' >> $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@$(QUIET) < $(VENV)/install.log
	@touch $@

venv: $(STAMP) ## create .venv and install the pinned dependencies

# Settings and secrets for local runs; .env is git-ignored.
.env:
	@sed -e "s/^RASA_TOKEN=.*/RASA_TOKEN=$$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')/" \
		-e "s/^SMS_SENDER_SECRET=.*/SMS_SENDER_SECRET=$$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')/" \
		.env.example > $@
	@echo "==> Created .env with a fresh RASA_TOKEN and SMS_SENDER_SECRET"

env: .env ## write .env (fresh Rasa token and SMS secret) if there is none

$(SPACY): $(STAMP) data/directory/places.yml data/directory/taxonomy.yml bot/nlu/spacy_pipeline.py bot/nlu/reo_norm.py bot/reo/normalise.py
	@echo "==> Building the spaCy pipeline (models/spacy-awhina)"
	@$(PY) -m bot spacy build 2>&1 >/dev/null | $(QUIET)

# Rasa itself skips retraining when nothing changed; make skips even starting it.
$(MODEL): $(SPACY) $(TRAIN_INPUTS)
	@echo "==> Training the Rasa model (data, domain or config changed; a minute or more)"
	@$(PY) -m rasa train --quiet --config config.yml --domain domain.yml \
		--data data/nlu data/stories data/rules --out models --fixed-model-name current 2>&1 | $(QUIET)
	@touch $@

train: $(MODEL) ## build the spaCy pipeline and train the model, if anything changed

db: $(STAMP) ## migrate the database, reload the directory seed and navigator teams
	@echo "==> Loading the directory and the navigator teams"
	@$(PY) -m bot directory load --quiet 2>&1 | $(QUIET)

# The Procfile's processes (python -m bot run, bot/devrun.py); honcho start still works.
run: train db .env ## set up, train if needed, start everything; prints where to chat
	@$(PY) -m bot insights demo --if-sample
	@$(PY) -m bot run

# The whole suite runs with the clock frozen at 22:05 on a Saturday in New Zealand
# (tests/conftest.py, unless AWHINA_FROZEN_TIME is set), in three timed groups, each on
# WORKERS pytest-xdist processes:
# - unit: the tests that start no servers (the tests using the loaded model on one worker);
# - servers: the e2e and browser tests, a test file at a time on each worker, each worker
#   with its own real stack (own ports and database) that its e2e and browser tests share;
#   the slowest files start first (tests/conftest.py);
# - clock lane: the unit tests that read the clock (marked `clock`: tests/conftest.py
#   records which do as the unit group runs), again at 10:00 on a Tuesday.
# scripts/timed-groups prints how long each group took.
TUESDAY_MORNING := 2026-12-01T10:00:00+13:00
# The tests keep Python's compiled modules (__pycache__, git-ignored), unlike the rest of
# make: pytest rewrites each test module's asserts, and with no cache to keep it in, every
# xdist worker and every subprocess a test starts compiled the tests and bot/ again (about
# 5 s of each one's start).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest
WORKERS ?= auto
PARALLEL := -n $(WORKERS) --dist loadgroup
UNIT := $(PYTEST) $(PARALLEL) --ignore=tests/browser -m 'not e2e'
SERVERS := $(PYTEST) -n $(WORKERS) --dist loadfile --no-loadscope-reorder -m e2e
CLOCK_LANE := AWHINA_FROZEN_TIME=$(TUESDAY_MORNING) $(PYTEST) $(PARALLEL) --ignore=tests/browser \
	-m 'clock and not e2e'

test: train lint ## set up, train if needed, lint, run the whole suite in timed groups
	@scripts/timed-groups \
		"unit (no servers)" "$(UNIT)" \
		"servers (e2e + browser, a stack per worker)" "$(SERVERS)" \
		"clock lane (Tuesday 10:00)" "$(CLOCK_LANE)"

# Leaves out the tests marked `processes` too (those starting other Python processes:
# seconds each); make test's unit group and clock lane run them.
test-fast: $(STAMP) ## unit tests only: no servers, no trained model, no other processes
	@scripts/timed-groups "fast (no servers, no model, no processes)" \
		"$(PYTEST) $(PARALLEL) --ignore=tests/browser -m 'not e2e and not model and not processes'"

test-clocks: train ## the tests that read the clock, at 10:00 on a Tuesday
	@scripts/timed-groups "clock lane (Tuesday 10:00)" "$(CLOCK_LANE)"

lint: $(STAMP) ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# End-to-end benchmark against Rasa's stock starter bot (bench/); results in bench/results/.
# BENCH_QUICK=1 for a shorter run; BENCH_LABEL names the result files (default latest).
.PHONY: bench
bench: train ## benchmark against Rasa's starter bot (results in bench/results/)
	$(PY) -m bench

# The production profile with one and with two replicas behind HAProxy (bench/replicas.py;
# needs DATABASE_URL_SCALE, haproxy and redis-server); results in bench/results/replicas.md.
.PHONY: bench-scale
bench-scale: train ## benchmark one and two replicas behind HAProxy (bench/results/)
	$(PY) -m bench.replicas
