# kilnwatch: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: install sysdeps demo test check lint types pytest coverage bench soak clean serve browser vendor
CHROMIUM ?= /usr/bin/chromium

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: sysdeps $(STAMP)

# System packages the reports need (docs/reports.md): Pango and HarfBuzz-Subset for WeasyPrint, a CJK font for
# Chinese PDF text, poppler-utils (pdftotext) for the tests that read PDFs back; nats-server for
# the ingest-log tests, which start their own JetStream nodes (docs/deployment.md). Installed with
# apt-get only when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
sysdeps:
	@missing=""; \
	ldconfig -p | grep -q libpangoft2-1.0 || missing="$$missing libpangoft2-1.0-0"; \
	ldconfig -p | grep -q libharfbuzz-subset || missing="$$missing libharfbuzz-subset0"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-wqy-zenhei"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	{ command -v nats-server || test -x /usr/sbin/nats-server; } >/dev/null || missing="$$missing nats-server"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: install
	$(BIN)/kilnwatch demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: install
	$(BIN)/mypy

check: lint types

# the browser tests drive Debian's chromium (CI runs as root); CJK font for the screenshots
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$(SUDO) apt-get install -y -qq chromium fonts-wqy-zenhei; }

# refresh the browser assets from npm (package-lock.json); the result is committed so that
# install and demo need no network
vendor: install
	cd vendor && npm ci --ignore-scripts --legacy-peer-deps --no-audit --no-fund
	$(BIN)/python vendor/build.py

# one pytest worker per core (pytest-xdist); idle cores otherwise wait on the servers' replies
PYTEST = $(BIN)/python -m pytest -q -p no:cacheprovider -n auto --dist worksteal
pytest: install browser
	$(PYTEST)

# the same suite with line and branch coverage (pytest-cov): about 40 % longer
# (docs/operations.md), so measured on demand rather than in every `make test`
coverage: install browser
	$(PYTEST) --cov --cov-report=term:skip-covered

test: check pytest

bench: install
	$(BIN)/python benchmarks/run.py

# long forms of the security tests (docs/security.md): 100 000 fuzz cases per parser, the
# fault tests' repeated rounds, the access matrix on PostgreSQL too, and the soak (SOAK_S seconds, default an hour, on PostgreSQL)
SOAK_S ?= 3600
soak: install
	KILNWATCH_FUZZ=long KILNWATCH_FAULTS=long $(BIN)/python -m pytest -q -p no:cacheprovider -s \
	  tests/fuzz tests/faults tests/web/test_access_matrix.py
	$(BIN)/python benchmarks/soak.py --duration-s $(SOAK_S)

clean:
	rm -rf $(VENV) var/*.sqlite* .mypy_cache .ruff_cache .pytest_cache
