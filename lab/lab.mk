# The netconsole lab (lab/README.md). Included by the Makefile.
#   make lab-up [LAB_NAME=default] [LAB_OPTS="--remote-mac wrong"]   boot a lab
#   make lab-down [LAB_NAME=default]                                   take it down
#   make lab-fixtures [LAB_KERNEL=6.17]                                regenerate one kernel's fixtures/real/
LAB_NAME ?= default
LAB_OPTS ?=
LAB_KERNEL ?= 6.17

.PHONY: lab-build lab-up lab-down lab-down-all lab-status lab-fixtures

lab-build:
	@scripts/system-deps.sh lab
	@lab/lab.sh build --all

lab-up: lab-build
	@lab/lab.sh up --name $(LAB_NAME) $(LAB_OPTS)

lab-down:
	@lab/lab.sh down --name $(LAB_NAME)

lab-down-all:
	@lab/lab.sh down --all

lab-status:
	@lab/lab.sh status

lab-fixtures: lab-build
	@lab/make-fixtures.sh --kernel $(LAB_KERNEL)
