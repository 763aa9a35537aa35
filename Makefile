# Makefile - the kit: build every lab, run every test, grade every lab (also under Valgrind and
# the sanitizers). `make help` lists the targets. Each lab also builds alone: make -C lab1-lamport
LABS := $(patsubst %/,%,$(sort $(wildcard lab*/)))
# LAB=lab1-lamport restricts test, grade, valgrind, asan and tsan to one lab.
SEL := $(if $(LAB),$(LAB),$(LABS))
# DIR=path: grade, valgrind, asan and tsan grade that copy of a lab instead (a student's), which
# the grader builds itself. A relative DIR is taken from the directory make was started in: that
# is $(PWD) after `make -C kit`, else where the Makefile is. Only DIR= on make's command line
# counts: an environment variable DIR (a common name in scripts) must not pick what is graded.
DIR := $(if $(filter command line,$(origin DIR)),$(DIR))
DIR_ABS = $(if $(filter /%,$(DIR)),$(DIR),$(if $(wildcard $(PWD)/$(DIR)),$(abspath $(PWD)/$(DIR)),$(abspath $(DIR))))
GRADE_ARGS = $(if $(LAB),--lab $(LAB)) $(if $(DIR),--dir '$(DIR_ABS)') $(if $(TEST),--test $(TEST)) \
             $(if $(SEED),--seed $(SEED)) $(if $(REPEAT),--repeat $(REPEAT)) \
             $(if $(JSON),--json $(JSON)) $(if $(V),-v) $(if $(filter-out 0,$(FAIL_FAST)),--fail-fast) \
             $(if $(JOBS),--jobs $(JOBS)) $(if $(PORTS),--ports $(PORTS))
GRADER := grading/build/grade
# With DIR, only the kit's tooling is built here (the copy is the grader's to build) and the
# kit's own unit tests are not run: the grade is the copy's.
GRADE_DEPS := $(if $(DIR),kit,all)

all: kit
	@set -e; for d in $(LABS); do $(MAKE) -s -C $$d; done

kit:
	@$(MAKE) -s -C common/faultnet
	@$(MAKE) -s -C grading

deps:
	@sh common/install-deps.sh

# Unit tests of every lab, of the fault library and of the grader; the shared-helper drift check.
test: deps all
	@sh common/run-all.sh test "$(SEL)"

grade: deps $(GRADE_DEPS)
	@$(GRADER) $(GRADE_ARGS)

# Unit tests under memcheck, then grading runs with the nodes where each test's scenario
# happens under memcheck (grading/README.md, "Valgrind"); VALGRIND_ALL=1: every node.
valgrind: deps $(GRADE_DEPS)
	@$(if $(DIR),,sh common/run-all.sh valgrind "$(SEL)")
	@$(GRADER) $(if $(filter-out 0,$(VALGRIND_ALL)),--valgrind-all,--valgrind) $(GRADE_ARGS)

# ASan+UBSan (and TSan) builds of each lab: unit tests, then grading runs of those builds.
asan tsan: deps kit
	@$(if $(DIR),,set -e; for d in $(SEL); do $(MAKE) -s -C $$d SAN=$@; done)
	@$(if $(DIR),,sh common/run-all.sh $@ "$(SEL)")
	@$(GRADER) --build build-$@ $(GRADE_ARGS)

# The judge tests itself: grade every mutant in grading/mutants/<lab>/ (a realistic student bug
# must lose points, an equivalent variant must keep full marks). LAB=... one lab, MUTANT=name one.
mutants: deps all
	@$(if $(MUTANT),MUTANT=$(MUTANT)) $(if $(SEED),SEED=$(SEED)) sh grading/mutants/run.sh $(LAB)

# libFuzzer harnesses of every decoder (each lab's tests/fuzz_*.c, faultnet's control file, the
# grader's event lines), FUZZ_S seconds each (default 20); FUZZ_JOBS directories at once (default
# 2, one per core: a harness runs for its time however many share the machine, so this halves the
# wall time without shortening any). Fails on a finding. LAB= also takes common/faultnet or grading.
FUZZ_DIRS := $(if $(LAB),$(LAB),$(LABS) common/faultnet grading)
FUZZ_JOBS ?= 2
fuzz: deps
	@printf '%s\n' $(FUZZ_DIRS) | xargs -P $(FUZZ_JOBS) -I{} $(MAKE) -s -C {} fuzz

# A classroom demo: every node of a lab in its own tmux pane (DEMO_ARGS are passed to nodes).
demo: all
	@sh common/demo.sh $(if $(LAB),$(LAB),lab1-lamport) $(N)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	@for d in $(LABS) common/faultnet grading; do $(MAKE) -s -C $$d clean; done

help:
	@echo "make            build every lab, the fault library and the grader"
	@echo "make test       unit tests of every lab and of the kit (LAB=... for one lab)"
	@echo "make grade      grade every lab: LAB=lab1-lamport TEST=loss-30 SEED=7 REPEAT=10"
	@echo "                JSON=results.json (Gradescope) V=1 (numbers for passing tests too)"
	@echo "                DIR=path/to/copy (grade a student's copy; it is built first)"
	@echo "                FAIL_FAST=1 (stop a lab at its first failing test)"
	@echo "                JOBS=4 (tests at once; default three per core, output in table order)"
	@echo "make valgrind   unit tests and grading runs under valgrind memcheck (VALGRIND_ALL=1:"
	@echo "                every node of every test, not only where the scenario happens)"
	@echo "make asan       the same with AddressSanitizer+UBSan builds; make tsan: ThreadSanitizer"
	@echo "make mutants    grade every student-bug mutant of grading/mutants (LAB=..., MUTANT=...)"
	@echo "make fuzz       libFuzzer on every decoder, FUZZ_S=20 seconds each (LAB=... for one lab)"
	@echo "make demo       LAB=lab1-lamport N=3: one tmux pane per node"
	@echo "make deps       install Check, Valgrind, Mosquitto if missing (apt-get)"

.PHONY: all kit deps test grade valgrind asan tsan demo format clean help fuzz mutants
