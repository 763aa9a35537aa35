# core.mk - SHA-256 and proof-of-work core of lab7: sources, unit tests, bench.
#
# Included by the lab's Makefile after it sets B, CFLAGS, SANFLAGS, LAB_CPPFLAGS, CHECK_CFLAGS,
# CHECK_LIBS and RUN, and after its `$(B)/%.o: %.c` rule. Defines no all/test/clean: the lab's
# Makefile links CORE_SRCS into its programs and runs CORE_TESTS with its other suites.
#
#   make bench        nonces per second, 1 and 2 threads, portable and SHA-NI, vs OpenSSL

# sha256_ni.c holds the x86 SHA-extensions compression, chosen at run time (plain C elsewhere).
CORE_SRCS := sha256.c sha256_ni.c pow.c
CORE_OBJS = $(CORE_SRCS:%.c=$(B)/%.o)
CORE_TESTS = $(B)/check_sha256 $(B)/check_pow
CORE_TEST_OBJS = $(B)/tests/check_sha256.o $(B)/tests/check_pow.o

# Static pattern rule: explicit for these two objects, so it wins over any tests/ pattern rule.
# check-deps (the lab's Makefile) says "install Check" before a compiler error could.
$(CORE_TEST_OBJS): $(B)/tests/%.o: tests/%.c | check-deps
	@mkdir -p $(@D)
	$(CC) $(LAB_CPPFLAGS) $(CPPFLAGS) $(CHECK_CFLAGS) $(CFLAGS) $(SANFLAGS) -MMD -MP -c -o $@ $<

$(B)/check_sha256: $(B)/tests/check_sha256.o $(B)/sha256.o $(B)/sha256_ni.o
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(B)/check_pow: $(B)/tests/check_pow.o $(CORE_OBJS)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

# The bench is always an optimised build without sanitizers, whatever SAN says, so that its
# numbers mean something; it is compiled from the sources in one go.
$(B)/bench: bench.c $(CORE_SRCS) sha256.h pow.h
	@mkdir -p $(@D)
	$(CC) $(LAB_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) -O2 $(LDFLAGS) -pthread -o $@ \
	    bench.c $(CORE_SRCS) $(LDLIBS)

.PHONY: bench
bench: $(B)/bench
	./$(B)/bench $(BENCH_ARGS)

-include $(wildcard $(CORE_TEST_OBJS:.o=.d))
