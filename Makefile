# stockpilot — set-up, run, test, benchmark.
#
# Two locks, both pinned with hashes: requirements/runtime.lock is what the server needs (`make
# run`); requirements/dev.lock adds the test, lint and benchmark tools on the same pins (`make
# test`, `lint`, `bench`). Each has its own stamp, so `make test` after `make run` installs only
# what dev.lock adds.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_LOCK := requirements/runtime.lock
DEV_LOCK := requirements/dev.lock
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PIP := $(BIN)/python -m pip

.PHONY: run test lint bench fuzz install install-dev lock format clean chromium

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian, apt-get install python3-venv"; exit 1; }
	$(PIP) install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml $(RUNTIME_LOCK) | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(RUNTIME_LOCK)
	$(PIP) install --quiet --no-deps -e .
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) $(DEV_LOCK)
	$(PIP) install --quiet --require-hashes -r $(DEV_LOCK)
	@touch $@

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

# The server and a webhook delivery worker side by side; Ctrl-C (or SIGTERM to make, which
# passes it on to this shell) stops both, each gracefully. The worker writes to var/worker.log,
# so the admin token stays the last line printed before the server starts.
run: $(RUNTIME_STAMP)
	$(BIN)/stockpilot init
	$(BIN)/stockpilot demo --if-empty
	@mkdir -p var; $(BIN)/stockpilot worker >>var/worker.log 2>&1 & worker=$$!; \
	$(BIN)/stockpilot serve --host 127.0.0.1 --port 8000 & server=$$!; \
	trap 'kill -TERM $$server $$worker 2>/dev/null' INT TERM; \
	wait $$server; status=$$?; \
	kill -TERM $$worker 2>/dev/null; wait $$worker; wait $$server; exit $$status

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (never a browser build downloaded by Playwright);
# as root it is installed when missing. Without it those tests fail: they never skip.
CHROMIUM := /usr/bin/chromium

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "$(CHROMIUM) is missing: as root, apt-get install chromium"; \
		fi; \
	fi

test: lint chromium
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

# A longer schemathesis run over the whole API than the one in `make test` (every check, a fixed
# seed; SEED and EXAMPLES may be set): python -m tests.fuzz.harness --help.
SEED ?= 1
EXAMPLES ?= 200
fuzz: $(DEV_STAMP)
	$(BIN)/python -m tests.fuzz.harness --max-examples $(EXAMPLES) --seed $(SEED)

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.run

format: $(DEV_STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Re-resolve both locks after changing pyproject.toml dependencies. Versions already pinned are
# kept where they still fit (pip-compile prefers the pins in the file it rewrites); `make lock
# UPGRADE=1` moves everything to the newest release. dev.lock is constrained by runtime.lock, so
# the two never pin a shared package differently.
LOCK_VENV := .lockenv
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	--generate-hashes --strip-extras --no-emit-find-links --no-emit-index-url \
	$(if $(UPGRADE),--upgrade)

lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet pip-tools==7.6.2
	$(PIP_COMPILE) -o $(RUNTIME_LOCK) pyproject.toml
	$(PIP_COMPILE) --extra dev --extra bench -c $(RUNTIME_LOCK) -o $(DEV_LOCK) pyproject.toml
	rm -rf $(LOCK_VENV)

clean:
	rm -rf $(VENV) var/*.db var/*.db-*
