#!/bin/sh
# cli.sh GRADE - the grader's command line: bad arguments exit 2 with a reason, --test takes a
# comma-separated list and selects exactly those tests. (No lab is run: --build points nowhere,
# so every selected test fails at once with a harness error, which is all this needs.)
G=$1
fails=0
out=$(mktemp)
logs=$(mktemp -d)
trap 'rm -rf "$out" "$logs"' EXIT

expect() { # expect STATUS GREP-PATTERN ARGS...
    want=$1 pat=$2
    shift 2
    "$G" --logs "$logs" "$@" >"$out" 2>&1
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$pat" "$out"; then
        echo "FAIL: grade $*: exit $got (want $want), output without '$pat':"
        sed 's/^/    /' "$out"
        fails=$((fails + 1))
    fi
}

expect 2 "usage: grade" --no-such-flag
expect 2 "no lab named nosuch" --lab nosuch
expect 2 "no test named bogus" --lab lab1-lamport --test bogus
expect 2 "no test named bogus" --lab lab1-lamport --test clock-condition,bogus
expect 2 "no test named duplicates in the selected labs" --lab lab2-snapshot --test duplicates
expect 1 "Score: 0/20" --lab lab1-lamport --test clock-condition,duplicates --build nosuch
n=$(grep -c "^== lab1-lamport: " "$out")
[ "$n" = 2 ] || { echo "FAIL: --test clock-condition,duplicates ran $n tests, not 2"; fails=$((fails + 1)); }
grep -q "^Failed:" "$out" || { echo "FAIL: no recap of the failed tests"; fails=$((fails + 1)); }

expect 2 "usage: grade" --jobs 0
expect 1 "Score: 0/20" --lab lab1-lamport --test duplicates,clock-condition --build nosuch --jobs 2
order=$(sed -n 's/^== lab1-lamport: \([a-z-]*\) .*/\1/p' "$out" | tr '\n' ' ')
[ "$order" = "clock-condition duplicates " ] ||
    { echo "FAIL: --jobs 2 printed '$order', not the table order"; fails=$((fails + 1)); }

[ $fails = 0 ] && echo "cli.sh: 10 command-line checks passed"
exit $((fails != 0))
