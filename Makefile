# smsmenu: `make run` starts the whole system in demo mode, `make test` proves it.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
PYTHON ?= python3

.PHONY: run test lint unit bench chaos peers phone phone-card smsc ismg clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Demo mode: simulators (billing, SMSC, bank), the demo agent and operator, generated tokens
# (kept in var/demo-tokens.json), loopback only. Production is `smsmenu serve --config FILE`.
run: $(STAMP)
	$(VENV)/bin/smsmenu serve --demo

# The SMSC simulator alone on 127.0.0.1:2775 (what `make run` also starts), for other ESMEs.
smsc: $(STAMP)
	$(VENV)/bin/smsmenu smsc

# The ISMG simulator (SMGP 3.0, China Telecom) alone on 127.0.0.1:8890, for SMGP clients.
ismg: $(STAMP)
	$(VENV)/bin/smsmenu ismg

# Real peers the end-to-end tests talk to (Debian packages); skipped when not root.
peers:
	@sh scripts/install-peers.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest -q

test: $(STAMP) peers lint unit

# The terminal SIM phone, as the demo agent, against the server `make run` started.
phone: $(STAMP)
	$(VENV)/bin/smsmenu phone --msisdn 18900000001

# The same handset with the 空中充值 UTK card in it (card mode; F5 shows the card's bytes).
phone-card: $(STAMP)
	$(VENV)/bin/smsmenu phone --msisdn 18900000001 --card

BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) bench/run_all.py

# The reliability suite (kill -9, billing faults, SMPP faults, disk full, read-only; ~10 minutes):
# one table, bench/chaos-results.json, each process's log under var/chaos-logs/.
chaos: $(STAMP)
	$(PY) bench/chaos.py
	HYPOTHESIS_PROFILE=chaos $(PY) -m pytest -q -p no:cacheprovider tests/gateway/test_smpp_fuzz.py \
		tests/gateway/test_http_fuzz.py tests/web/test_web_fuzz.py

clean:
	rm -rf $(VENV) var/ build/ *.egg-info .pytest_cache .mypy_cache .ruff_cache
