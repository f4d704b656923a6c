# The clinic assistant. Start with `make run` (chat in the browser) or `make test` (every check).
# Everything installs into .venv from requirements/lock.txt; nothing global is needed but Python.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
SPACY_PIPELINE := models/spacy/clinic_en/meta.json
RASA_VERSION := 3.6.21
RASA_SDK_VERSION := 3.6.2
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: run run-cluster haproxy test setup train validate lint unit-tests conversation-tests nlu-gate nlu-report \
        context-compare bench-console bench check-config bookings staff-user purge erase export-visitor browser lock \
        replay-visitors \
        check-lock clean

run: setup train check-config
	$(PY) -m tools.run

# SERVERS Rasa servers (default 2), each with its action server and delivery worker, behind
# HAProxy on port 5005, sharing PostgreSQL (DATABASE_URL, TRACKER_DATABASE_URL) and Redis
# (REDIS_URL). README, "Scaling out".
SERVERS ?= 2
run-cluster: setup train check-config haproxy
	SERVERS=$(SERVERS) $(PY) -m tools.cluster

test: setup browser haproxy validate lint train unit-tests conversation-tests nlu-gate

setup: $(INSTALLED) $(SPACY_PIPELINE)

# Rasa 3.6 and rasa-sdk 3.6 declare Requires-Python <3.11; on 3.11 a plain `pip install rasa`
# silently installs rasa 1.10.2. So: the exact lock first, then both Rasa packages without
# their (already installed) dependencies. See requirements/rasa-3.6.21.in.
$(INSTALLED): requirements/lock.txt
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 11) else "Python 3.10 or 3.11 is needed (found %d.%d); set PYTHON=python3.11" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==24.2"
	$(BIN)/pip install --quiet --no-deps -r requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python rasa==$(RASA_VERSION) rasa-sdk==$(RASA_SDK_VERSION)
	touch $@

$(SPACY_PIPELINE): $(INSTALLED) nlp/build_pipeline.py $(wildcard nlp/patterns/*.yml)
	$(PY) -m nlp.build_pipeline

# Trains only when models/ has no model for the current config, domain, data and spaCy patterns.
train: setup
	@if $(PY) -m tools.model stale; then \
	  echo "Training $$($(PY) -m tools.model path) …"; \
	  $(BIN)/rasa train --fixed-model-name $$($(PY) -m tools.model name) --out models && \
	  find models -maxdepth 1 -name 'clinic-*.tar.gz' ! -name "$$($(PY) -m tools.model name).tar.gz" -delete; \
	else echo "Model $$($(PY) -m tools.model path) is up to date."; fi

check-config: setup
	@$(PY) -m actions.clinic_config

# Booking requests stored in the records database (DATABASE_URL, default var/clinic.db).
bookings: setup
	@$(BIN)/alembic upgrade head
	@$(PY) -m tools.bookings

# A staff console account: asks for the password, or reads STAFF_PASSWORD (for scripts).
# Run again with a new ROLE or password to change them.
staff-user: setup
	@test -n "$(NAME)" -a -n "$(ROLE)" || { echo "Usage: make staff-user NAME=anna ROLE=staff|clinician|admin"; exit 2; }
	@$(BIN)/alembic upgrade head
	@$(PY) -m console.accounts "$(NAME)" "$(ROLE)"

# Privacy duties (README, "Privacy"). purge applies clinic.yml's retention now (the delivery
# worker also does it daily); erase removes one conversation's data, through the running Rasa
# server if there is one (audited); export-visitor prints everything held about one as JSON.
purge: setup
	@$(BIN)/alembic upgrade head
	@$(PY) -m actions.privacy purge

erase: setup
	@test -n "$(SENDER)" || { echo "Usage: make erase SENDER=<conversation id>"; exit 2; }
	@$(BIN)/alembic upgrade head
	@$(PY) -m actions.privacy erase "$(SENDER)"

export-visitor: setup
	@test -n "$(SENDER)" || { echo "Usage: make export-visitor SENDER=<conversation id> > visitor.json"; exit 2; }
	@$(BIN)/alembic upgrade head
	@$(PY) -m actions.privacy export "$(SENDER)"

# Rasa's --fail-on-warnings misses some warnings it prints (e.g. duplicated intents), so any
# UserWarning fails too, except those Rasa 3.6 itself causes: "not used" for utter_default,
# utter_ask_rephrase (fallbacks send them, see config.yml), utter_ask_<slot> (forms send
# them) and utter_data_erased (action_erase_data sends it), and "duplicated intents … faq" (it adds retrieval intents to the domain again after
# reading the ones domain.yml declares).
BENIGN_WARNINGS := utter_(default|ask_[a-z_]+|data_erased)' is not used|duplicated intents have been found across multiple domain files: faq$$
validate: setup
	@mkdir -p results
	$(BIN)/rasa data validate --fail-on-warnings --max-history 5 > results/validate.log 2>&1 \
	  || { cat results/validate.log; exit 1; }
	@if grep -A1 UserWarning results/validate.log | grep -v -E "$(BENIGN_WARNINGS)" | grep -q UserWarning; then \
	  grep -A1 UserWarning results/validate.log; echo "rasa data validate printed warnings (above)"; exit 1; \
	else echo "Training data and domain are valid."; fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The screen's language corpus prints its size and misreadings first (pytest checks it too).
unit-tests: setup train browser haproxy
	$(PY) -m tests.screening.corpus
	$(PY) -m pytest

conversation-tests: train
	$(BIN)/rasa test core --model $$($(PY) -m tools.model path) --stories tests/conversations \
	  --fail-on-prediction-errors --out results/conversations

nlu-gate: train
	$(PY) -m tools.nlu_gate --model $$($(PY) -m tools.model path)

nlu-report: train
	$(BIN)/rasa test nlu --nlu data --config config.yml --cross-validation --folds 5 --out results/nlu-crossval
	$(PY) -m tools.nlu_report results/nlu-crossval

# Visitor profiles (../shared/visitors/README.md's format) played through freshly started servers,
# as a visitor plays: FILES="a.json b.json" (default: the shared ones). Exits 1 if anyone
# contraindicated ends eligible; DETAILS=1 prints every conversation that went wrong.
FILES ?= $(wildcard ../shared/visitors/screening_*.json)
replay-visitors: train
	$(PY) -m tests.screening.replay $(FILES) $(if $(DETAILS),--details)

# medspaCy's ConText vs our clinical_context on the visitor phrasings (a measurement, exits 0).
context-compare: $(INSTALLED)
	$(BIN)/pip install --quiet --no-deps medspacy==1.3.1 pysbd==0.3.4
	$(PY) -m tools.context_compare

# The staff console's list, filters and search on 100,000 generated conversations, on SQLite and PostgreSQL.
bench-console: setup
	$(PY) -m tools.bench_console

# The clinic against stock Rasa 3.6 (`rasa init`'s moodbot), and one Rasa server against clusters of
# 1-3 behind HAProxy: load at 1/10/50 visitors, time to ready, memory, profiles, training time
# (about 18 minutes, 12 with BENCH_ARGS=--skip-training; --quick: about 10). results/bench/REPORT.md.
bench: setup train haproxy
	$(PY) -m tools.bench $(BENCH_ARGS)

# Headless Chromium for the browser test, from Debian's packages (Playwright's own browser
# download cannot work on machines without general internet access).
browser:
	@command -v chromium >/dev/null 2>&1 || tools/install_debian_package.sh chromium "the browser tests"

# HAProxy, the cluster's load balancer, from Debian's packages.
haproxy:
	@command -v haproxy >/dev/null 2>&1 || tools/install_debian_package.sh haproxy "the cluster's load balancer"

# Does the lock still install on Python 3.10 (Rasa's supported version)? Needs python3.10.
PYTHON310 ?= python3.10
check-lock:
	$(PYTHON310) -m pip install --dry-run --quiet --no-deps --ignore-installed --target $$(mktemp -d) -r requirements/lock.txt

# Re-resolve requirements/lock.txt from requirements/project.in (needs a working .venv); then
# run `make check-lock` and pin back any package whose newest release dropped Python 3.10.
lock:
	$(BIN)/pip install -r requirements/project.in
	$(BIN)/pip install --no-deps --ignore-requires-python rasa==$(RASA_VERSION) rasa-sdk==$(RASA_SDK_VERSION)
	(sed -n '1,/^$$/p' requirements/lock.txt | sed '$$d'; $(BIN)/pip freeze --exclude-editable | grep -v -i -E '^rasa(-|_)?(sdk)?==') > requirements/lock.new
	mv requirements/lock.new requirements/lock.txt

clean:
	rm -rf $(VENV) models/clinic-*.tar.gz models/spacy results .pytest_cache .ruff_cache
