#!/bin/sh
# run-all.sh MODE "LABS" - run every unit-test suite of the kit in one mode and summarise.
# MODE: test (plain), valgrind (VALGRIND=1), asan or tsan (SAN=...). Runs everything, then fails
# if anything failed, so one broken lab does not hide the others.
mode=$1
labs=$2
case $mode in
test) flags="" ;;
valgrind) flags="VALGRIND=1" ;;
asan | tsan) flags="SAN=$mode" ;;
*) echo "usage: run-all.sh test|valgrind|asan|tsan LABS" >&2; exit 2 ;;
esac
failed=""
for d in $labs common/faultnet grading; do
    # The fault library is never built with a sanitizer: it is loaded into sanitized nodes.
    [ "$d" = common/faultnet ] && [ "$mode" != test ] && [ "$mode" != valgrind ] && continue
    echo "== unit tests ($mode): $d"
    make -s -C "$d" test $flags || failed="$failed $d"
done
echo "== shared helpers: lab copies match common/"
sh common/check-copies.sh || failed="$failed copies"
if [ -n "$failed" ]; then
    echo "FAILED ($mode):$failed"
    exit 1
fi
echo "all unit tests passed ($mode)"
