# Parkflow: every target creates .venv on first use and installs what it needs.
# the interpreter .venv is made from (PYTHON=... chooses another): the system's python3 when
# it is 3.11 or newer and can make virtual environments, else python3 on the PATH.
# Distributions compile their Python with profile-guided and link-time optimisation; a
# locally compiled one (pyenv's default build, a shared libpython without either) runs
# Parkflow's busiest path a quarter to a third slower.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip, venv; \
	sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo $(SYSTEM_PYTHON) || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PARKFLOW_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test bench bench-scale bench-stats lint install clean chromium printing

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

FRONTEND := webapp/frontend
BUNDLE := webapp/static/dist/.built

$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund

$(BUNDLE): $(FRONTEND)/node_modules/.package-lock.json $(FRONTEND)/build.mjs $(wildcard $(FRONTEND)/src/*) \
		$(FRONTEND)/.bpmnlintrc $(wildcard $(FRONTEND)/bpmnlint-plugin-parkflow/*.js $(FRONTEND)/bpmnlint-plugin-parkflow/rules/*.js)
	cd $(FRONTEND) && node build.mjs

install: $(STAMP) $(BUNDLE)

run: $(STAMP) $(BUNDLE) printing
	$(BIN)/parkflow db upgrade
	$(BIN)/parkflow demo
	$(BIN)/parkflow serve --host 127.0.0.1 --port 5000

# the browser tests drive Debian's Chromium: installed here where it is missing and this user
# may install packages; elsewhere those tests are skipped, saying why
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; \
	  else echo "note: /usr/bin/chromium is missing (apt-get install chromium as root);" \
	    "the browser tests will be skipped"; fi; fi

# the 审批单 PDF is laid out by Pango with the Noto CJK fonts: installed here where they are
# missing and this user may install packages; elsewhere printing answers 503, saying why
printing:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  { ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || ! fc-list :lang=zh 2>/dev/null | grep -q .; }; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk; fi

test: $(STAMP) $(BUNDLE) chromium printing
	$(BIN)/pytest -n 2 tests

bench: $(STAMP)
	$(BIN)/python -m tests.bench

# the inbox with 1,000,000 open tasks across 50 parks on PostgreSQL (filling takes minutes)
bench-scale: $(STAMP)
	$(BIN)/python -m tests.bench_inbox_scale

lint: $(STAMP)
	$(BIN)/ruff check engine webapp forms tests
	$(BIN)/mypy engine
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache

# the park's figures over a year of 100,000 finished applications on PostgreSQL
# (python -m tests.bench_stats --applications 5000 for a quick look)
bench-stats: $(STAMP)
	$(BIN)/python -m tests.bench_stats
