# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install test-install chromium lint bench bench-api wrk clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed chromium

# The browser tests (tests/e2e) drive Debian's chromium package, never a downloaded browser.
# Where it cannot be installed (not root, no apt-get) say why and go on: those tests then skip.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	  echo "Installing Debian's chromium failed: the browser tests in tests/e2e will be skipped."; \
	else \
	  echo "Chromium is not installed and cannot be installed here (needs root and apt-get): the browser tests in tests/e2e will be skipped."; \
	fi

# The whole service, as in production: one schedule-run worker and the job scheduler (holds
# expire, permits are watched, financing is linked, the outbox's mail goes out) run beside the
# server; Ctrl-C (or the server ending) stops all three.
run: install
	$(BIN)/factoryshare init-db
	$(BIN)/factoryshare load-demo
	$(BIN)/factoryshare worker & worker=$$!; \
	$(BIN)/factoryshare scheduler & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null; wait $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/factoryshare serve --host $(HOST) --port $(PORT)

# Lint and types: ruff (rules and format, whole tree) and mypy on solver/ and factoryshare/.
lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: test-install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/solver_bench.py --time-limit 10 --workers 2 --seeds 3
	$(BIN)/python benchmarks/solver_bench.py --house small,medium,large,xl --real --time-limit 10 --workers 2 --seeds 3
	$(BIN)/python benchmarks/solver_bench.py --house scale --real --time-limit 60 --workers 2 --seeds 1

# Extract the texts of the pages and of the domain (N_), merge them into each language's catalogue and compile it.
translations: install
	$(BIN)/pybabel -q extract --no-location --sort-output -F babel.cfg -k _l -o api/translations/messages.pot api factoryshare
	$(BIN)/pybabel -q update -N --ignore-obsolete -i api/translations/messages.pot -d api/translations
	$(BIN)/pybabel -q compile -d api/translations

# The API benchmark's client is Debian's wrk package, installed here as root when missing.
wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get install -y -qq wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)); } || \
	  { echo "wrk is not installed and cannot be installed here (needs root and apt-get)."; exit 1; }

bench-api: install wrk
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/api_bench.py --data small --seconds 20 --repeats 3
	$(BIN)/python benchmarks/api_bench.py --data large --seconds 20 --repeats 3
	$(BIN)/python benchmarks/scale_out.py --seconds 150

clean:
	rm -rf $(VENV) instance build *.egg-info
