#!/bin/sh
# run-all.sh MODE "LABS" - run every unit-test suite of the kit in one mode and summarise.
# MODE: test (plain), valgrind (VALGRIND=1), asan or tsan (SAN=...). Runs everything, then fails
# if anything failed, so one broken lab does not hide the others.
#
# The suites run UNIT_JOBS at a time (default: 3 plain or with ASan, whose suites mostly wait on
# real processes and sockets; 2 under memcheck and TSan, which keep a core busy). Each suite's
# output is printed whole, in the order above, as soon as it and the ones before it are done,
# so parallel runs read like a sequential one. Suites never share a build directory or a port
# (every socket test binds port 0 and reads back what the kernel chose).
mode=$1
labs=$2
case $mode in
test) flags="" jobs=3 ;;
valgrind) flags="VALGRIND=1" jobs=2 ;;
asan) flags="SAN=$mode" jobs=3 ;;
tsan) flags="SAN=$mode" jobs=2 ;;
*) echo "usage: run-all.sh test|valgrind|asan|tsan LABS" >&2; exit 2 ;;
esac
jobs=${UNIT_JOBS:-$jobs}
case $jobs in '' | *[!0-9]* | 0) echo "run-all.sh: UNIT_JOBS must be a number >= 1" >&2; exit 2 ;; esac

if [ "${3:-}" = --one ]; then # run-all.sh MODE "" --one WORK INDEX DIR, from xargs below
    start=$(date +%s)
    # shellcheck disable=SC2086 # flags is empty or one word
    make -s -C "$6" test $flags >"$4/$5.out" 2>&1
    rc=$?
    echo "$rc $(($(date +%s) - start))" >"$4/$5.rc.tmp" && mv "$4/$5.rc.tmp" "$4/$5.rc"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kit-unit.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
n=0
# The grader's suites first: the longest (71 s under ASan), they would otherwise start last.
for d in grading $labs common/faultnet; do
    # The fault library is never built with a sanitizer: it is loaded into sanitized nodes.
    [ "$d" = common/faultnet ] && [ "$mode" != test ] && [ "$mode" != valgrind ] && continue
    n=$((n + 1))
    echo "$n $d"
done >"$work/list"
echo "== $n unit-test suites ($mode), $jobs at a time (UNIT_JOBS=N to change)"
xargs -P "$jobs" -L 1 sh "$0" "$mode" "" --one "$work" <"$work/list" &
runner=$!

failed=""
while read -r i d; do
    while [ ! -e "$work/$i.rc" ]; do
        kill -0 "$runner" 2>/dev/null || [ -e "$work/$i.rc" ] || break
        sleep 1
    done
    # shellcheck disable=SC2046 # two words: status, seconds
    set -- $(cat "$work/$i.rc" 2>/dev/null)
    echo "== unit tests ($mode): $d (${2:-?}s)"
    cat "$work/$i.out" 2>/dev/null
    [ "${1:-1}" = 0 ] || failed="$failed $d"
done <"$work/list"
wait "$runner"

echo "== shared helpers: lab copies match common/"
sh common/check-copies.sh || failed="$failed copies"
if [ -n "$failed" ]; then
    echo "FAILED ($mode):$failed"
    exit 1
fi
echo "all unit tests passed ($mode)"
