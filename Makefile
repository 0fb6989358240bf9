# netdiag: every dependency (Debian and npm) is installed from here.
# make        install and build
# make test   lint, then the whole suite (needs root for namespaces and the lab; CI=true makes skips failures)
# make unit   the build and the unit tests only: no root, no lab (test/*.test.ts but not *.e2e.test.ts)
# make lint   eslint (typescript-eslint, type-checked), prettier, unused exports, import cycles
# make demo   boot the bundled lab and run netdiag against it
# make bench  netdiag side by side with tcpdump and tshark
# make install  the package (npm install -g of its tarball), man page and bash completion under
#               $(DESTDIR)$(PREFIX) (default /usr/local)

SHELL := /bin/bash
NPM ?= npm
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

.PHONY: all deps system-deps build test unit lint format install demo bench clean docs

all: build

system-deps:
	@scripts/system-deps.sh build

node_modules/.installed: package.json package-lock.json | system-deps
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: system-deps node_modules/.installed

# The build uses the native compiler (typescript 7, npm alias typescript-native); the `typescript`
# package is 5.x because typescript-eslint needs its API.
TSC := node node_modules/typescript-native/bin/tsc
# Unit tests: every test file except *.e2e.test.ts (those need root, namespaces or the QEMU lab).
UNIT_TESTS = $$(find test -name '*.test.ts' ! -name '*.e2e.test.ts' | sort | sed 's|^|dist/|; s|\.ts$$|.js|')
LINT_DIRS := src test bench scripts

build: deps
	@$(NPM) run --silent build

test: build lint
	@scripts/system-deps.sh test
	@node_modules/.bin/ava

unit: build
	@node_modules/.bin/ava $(UNIT_TESTS)

# The four checks run side by side (eslint's type-checked rules take most of the time; the other three
# share the second core); -O keeps each one's output together.
LINT_STEPS := lint-eslint lint-prettier lint-knip lint-cycles
.PHONY: $(LINT_STEPS)
lint: build
	@$(MAKE) --no-print-directory -j2 -O $(LINT_STEPS)

lint-eslint:
	@node_modules/.bin/eslint --max-warnings=0 $(LINT_DIRS)
lint-prettier:
	@node_modules/.bin/prettier --check --log-level=warn $(LINT_DIRS) '*.js'
lint-knip:
	@node_modules/.bin/knip --no-progress
lint-cycles:
	@node dist/scripts/import-cycles.js src

# Rewrites the sources to the formatter's layout and applies eslint's automatic fixes.
format: deps
	@$(NPM) run --silent format

PREFIX ?= /usr/local
DESTDIR ?=
install: build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	tarball=$$($(NPM) pack --ignore-scripts --silent --pack-destination "$$tmp") && \
	$(NPM) install --global --prefix "$(DESTDIR)$(PREFIX)" --no-audit --no-fund --loglevel=error "$$tmp/$$tarball" && \
	install -D -m 644 dist/completion/netdiag.bash "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/netdiag"
	@echo "netdiag: installed $(DESTDIR)$(PREFIX)/bin/netdiag, man netdiag, bash completion"

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
