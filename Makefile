# One-command set-up on a fresh Debian machine: `make run` and `make test` install what they
# need (system packages through apt-get, a Python venv for the interop tests) and then work.

SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PYTHON ?= python3
SYSTEM_PACKAGES := libhiredis-dev libjwt-dev libssl-dev zlib1g-dev pkg-config
TEST_PACKAGES := redis-server redis-tools prometheus nginx openssl chromium chromium-driver tmux
PY_PACKAGES := python-socketio[client]==5.18.1 python-engineio==4.15.1 websocket-client==1.9.2 requests==2.34.2 pytest==9.2.0 pyjwt[crypto]==2.10.1 cryptography==50.0.2 selenium==4.51.0 aiohttp==3.14.5 schemathesis==4.32.5 msgpack==1.2.4
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run build test unit-test interop-test screenshot bench fuzz sanitize system-deps test-deps venv clean

# Installs the listed Debian packages that are missing (apt-get update first, once).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

system-deps:
	$(call apt_install,$(SYSTEM_PACKAGES))

test-deps: system-deps
	$(call apt_install,$(TEST_PACKAGES))

venv: $(VENV)/.installed

$(VENV)/.installed: Makefile
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { $(call apt_install,python3-venv) ; $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PY_PACKAGES)
	@touch $@

build: system-deps
	$(SWIFT) build -c release --product gateway

run: build
	.build/release/gateway serve --config config/gateway.yaml

unit-test: system-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

interop-test: test-deps venv
	$(SWIFT) build --product ConformanceServer
	$(SWIFT) build --product gateway
	$(SWIFT) build --product gateway-bench
	$(VENV)/bin/pytest -q Tests/Interop

test: unit-test interop-test

# PNGs of the browser dashboard (dark and light, market and admin views) in screenshots/.
screenshot: test-deps venv
	$(SWIFT) build --product gateway
	$(VENV)/bin/python Tests/Interop/screenshot.py --out screenshots

bench: test-deps venv
	source Benchmarks/common.sh && build_bench gateway-bench gateway StockWebSocketServer ConformanceServer
	Benchmarks/run-fanout.sh
	Benchmarks/run-feed.sh
	Benchmarks/run-waves.sh
	Benchmarks/run-cluster.sh
	Benchmarks/run-ingest.sh
	Benchmarks/run-tls.sh
	Benchmarks/run-tls-handshakes.sh
	Benchmarks/run-symbols.sh
	Benchmarks/run-market-data.sh
	Benchmarks/run-ceiling.sh
	Benchmarks/run-percore.sh
	Benchmarks/run-compression.sh
	Benchmarks/run-attacks.sh

fuzz: system-deps venv
	Fuzz/run-fuzzer.sh
	Fuzz/run-api-fuzz.sh

# ThreadSanitizer and AddressSanitizer builds, each started SANITIZE_RUNS times (200) with a crowd
# at the instant the port opens (docs/testing.md).
sanitize: system-deps
	Benchmarks/sanitize/run.sh

clean:
	rm -rf .build $(VENV)
