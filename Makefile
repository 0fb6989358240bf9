# netdiag: every dependency (Debian and npm) is installed from here.
# make        install and build
# make test   the whole suite (needs root for namespaces and the lab; CI=true makes skips failures)
# make demo   boot the bundled lab and run netdiag against it
# make bench  netdiag side by side with tcpdump and tshark

SHELL := /bin/bash
NPM ?= npm
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

.PHONY: all deps system-deps build test demo bench clean docs

all: build

system-deps:
	@scripts/system-deps.sh build

node_modules/.installed: package.json package-lock.json | system-deps
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: system-deps node_modules/.installed

build: deps
	@node_modules/.bin/tsc -p tsconfig.json

test: build
	@scripts/system-deps.sh test
	@node_modules/.bin/ava

demo: build
	@scripts/system-deps.sh lab
	@scripts/demo.sh

bench: build
	@scripts/system-deps.sh bench
	@node dist/bench/bench.js

clean:
	rm -rf dist node_modules/.installed

-include lab/lab.mk

docs: build
	@node dist/src/findings/docs.js > docs/findings.md
