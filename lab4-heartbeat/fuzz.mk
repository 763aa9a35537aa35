# fuzz.mk - `make fuzz`: build a lab's libFuzzer harnesses (tests/fuzz_*.c) with clang and run each
# one. The including Makefile sets FUZZ_HARNESSES (names of tests/<name>.c) before including this
# file, and after it a rule $(FUZZ_B)/<name> for each harness. The canonical copy is common/fuzz.mk;
# each lab carries a verbatim copy (common/check-copies.sh checks it has not drifted).
#   make fuzz [FUZZ_S=20] [FUZZ=fuzz_proto]   build with clang, run each FUZZ_S seconds
# Each harness starts from a temporary copy of its seed corpus tests/corpus/<harness>/ (so runs
# never grow the tree), gets a scratch TMPDIR (on /dev/shm if it can), removed afterwards even
# after a crash, and ends with one line of libFuzzer's final stats. A finding (crash,
# sanitizer report, violated property, timeout, leak) fails the target and prints the
# reproducing input's path and hex; rerun it with  $(FUZZ_B)/<harness> <file>.
FUZZ_CC ?= clang
FUZZ_S ?= 20
FUZZ_B ?= build-fuzz
FUZZ_FLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=all
FUZZ_OPTS := -timeout=10 -rss_limit_mb=1024 -print_final_stats=1
FUZZ_SEL = $(if $(FUZZ),$(FUZZ),$(FUZZ_HARNESSES))

$(FUZZ_B):
	mkdir -p $@

# One harness after the other (2 cores are shared): run, summarise, show any finding.
fuzz: $(FUZZ_SEL:%=$(FUZZ_B)/%)
	@status=0; \
	for h in $(FUZZ_SEL); do \
	    corpus=$$(mktemp -d) && cp tests/corpus/$$h/* "$$corpus"/ 2>/dev/null; \
	    scratch=$$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d); \
	    rm -f $(FUZZ_B)/$$h-crash-* $(FUZZ_B)/$$h-leak-* $(FUZZ_B)/$$h-timeout-* \
	          $(FUZZ_B)/$$h-oom-* $(FUZZ_B)/$$h-slow-unit-*; \
	    TMPDIR="$$scratch" ./$(FUZZ_B)/$$h $(FUZZ_OPTS) -max_total_time=$(FUZZ_S) \
	        -artifact_prefix=$(FUZZ_B)/$$h- "$$corpus" >$(FUZZ_B)/$$h.log 2>&1; rc=$$?; \
	    rm -rf "$$corpus" "$$scratch"; \
	    execs=$$(LC_ALL=C sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_B)/$$h.log); \
	    last=$$(LC_ALL=C grep -a -E '^#[0-9]+.* cov: ' $(FUZZ_B)/$$h.log | tail -n 1); \
	    cov=$$(echo "$$last" | LC_ALL=C grep -a -o ' cov: [0-9]*' | head -n 1 | cut -d' ' -f3); \
	    ft=$$(echo "$$last" | LC_ALL=C grep -a -o ' ft: [0-9]*' | head -n 1 | cut -d' ' -f3); \
	    if [ $$rc -ne 0 ]; then \
	        status=1; \
	        LC_ALL=C grep -a -E -m 12 'ERROR:|runtime error|property failed|SUMMARY|^    #[0-4] ' \
	            $(FUZZ_B)/$$h.log; \
	        for a in $(FUZZ_B)/$$h-crash-* $(FUZZ_B)/$$h-leak-* $(FUZZ_B)/$$h-timeout-* \
	                 $(FUZZ_B)/$$h-oom-*; do \
	            [ -f "$$a" ] || continue; \
	            echo "fuzz $(notdir $(CURDIR))/$$h: reproducer $(CURDIR)/$$a"; \
	            echo "fuzz $(notdir $(CURDIR))/$$h: hex $$(od -An -v -tx1 "$$a" | tr -d ' \n' | cut -c1-4096)"; \
	        done; \
	        echo "fuzz $(notdir $(CURDIR))/$$h: FINDING (exit $$rc) execs=$${execs:-?} cov=$${cov:-?} ft=$${ft:-?} log=$(CURDIR)/$(FUZZ_B)/$$h.log"; \
	    else \
	        echo "fuzz $(notdir $(CURDIR))/$$h: ok $(FUZZ_S)s execs=$${execs:-?} cov=$${cov:-?} ft=$${ft:-?}"; \
	    fi; \
	done; \
	exit $$status

clean: fuzz-clean
fuzz-clean:
	rm -rf $(FUZZ_B)

.PHONY: fuzz fuzz-clean
