#!/bin/sh
# cli.sh GRADE - the grader's command line: bad arguments exit 2 with a reason, --test takes a
# comma-separated list (or is repeated) and selects exactly those tests. (No lab is run there:
# --build points nowhere, so every selected test fails at once with a harness error, which is all
# this needs.) Then grading a copy, with lab1's real nodes: from another directory, make grade
# DIR= (a broken copy loses points), a copy that does not compile, --fail-fast, logs kept apart.
G=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: some checks run from elsewhere
ROOT=$(cd "$(dirname "$G")/../.." && pwd)
fails=0
out=$(mktemp)
logs=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$out" "$logs" "$tmp"' EXIT

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

fail() { echo "FAIL: $*"; sed 's/^/    /' "$out"; fails=$((fails + 1)); }

# --test repeated: both, not only the last
expect 1 "Score: 0/20" --lab lab1-lamport --test clock-condition --test duplicates --build nosuch
n=$(grep -c "^== lab1-lamport: " "$out")
[ "$n" = 2 ] || fail "--test clock-condition --test duplicates ran $n tests, not 2"

# Copies of lab1 (make's own variables are not theirs, as for a student's `make -C copy`):
# good, broken (the receive rule forgets the max), one that does not compile.
unset MAKEFLAGS MFLAGS MAKELEVEL SAN B VALGRIND LAB TEST SEED REPEAT JSON V JOBS FAIL_FAST MUTANT
make -s -C "$ROOT/lab1-lamport" >/dev/null || fail "lab1-lamport does not build"
mkdir "$tmp/a" "$tmp/b"
cp -r "$ROOT/lab1-lamport" "$tmp/a/lab1-lamport"
rm -rf "$tmp/a/lab1-lamport"/build*
cp -r "$tmp/a/lab1-lamport" "$tmp/broken"
sed -i 's/c->lc = (m->lc > c->lc ? m->lc : c->lc) + 1;/c->lc = c->lc + 1;/' "$tmp/broken/clock.c"
grep -q "c->lc = c->lc + 1;" "$tmp/broken/clock.c" || fail "could not break lab1's clock.c"
cp -r "$tmp/a/lab1-lamport" "$tmp/lab1-nobuild"
echo "int broken_on_purpose = ;" >>"$tmp/lab1-nobuild/clock.c"
cp -r "$tmp/a/lab1-lamport" "$tmp/b/lab1-lamport"
ntests=$("$G" --list | grep -c "^lab1-lamport ")

# From another directory the grader still finds the kit (it used to look in the cwd).
(cd "$tmp" && "$G" --logs "$logs" --lab lab1-lamport --test clock-condition) >"$out" 2>&1 ||
    fail "grade run from $tmp did not pass"
grep -q "Score: 10/10" "$out" || fail "grade run from $tmp: no full marks"

# make grade DIR=: that copy is graded (and built); a relative DIR is the caller's.
(cd "$tmp" && make -s -C "$ROOT" grade LAB=lab1-lamport DIR=broken TEST=clock-condition) \
    >"$out" 2>&1 && fail "make grade DIR=broken: exit 0 for a broken copy"
grep -q "Score: 0/10" "$out" || fail "make grade DIR=broken did not lose the points"
(DIR=$tmp/broken make -s -C "$ROOT" grade LAB=lab1-lamport TEST=clock-condition) >"$out" 2>&1 ||
    fail "make grade with DIR only in the environment did not grade the kit's lab"
(cd "$tmp/a" && make -s -C "$ROOT" grade DIR=lab1-lamport TEST=clock-condition) >"$out" 2>&1 ||
    fail "make grade DIR=lab1-lamport (good copy, lab inferred) failed"
grep -q "Score: 10/10" "$out" || fail "make grade DIR= of a good copy: no full marks"

# A copy that does not compile: every test "build failed", with the compiler's words, 0 points;
# not a harness error. Its lab is inferred from the directory's name.
"$G" --logs "$logs" --dir "$tmp/lab1-nobuild" >"$out" 2>&1
[ $? = 1 ] || fail "--dir lab1-nobuild: exit status not 1"
n=$(grep -c "^== lab1-lamport: .* == FAIL" "$out")
[ "$n" = "$ntests" ] || fail "--dir lab1-nobuild: $n of $ntests tests reported failed"
[ "$(sed "/^Failed:/q" "$out" | grep -c "    build failed: ")" = "$ntests" ] || fail "--dir lab1-nobuild: not 'build failed'"
grep -q "error: expected expression" "$out" || fail "--dir lab1-nobuild: compiler output not quoted"
grep -q "Score: 0/" "$out" || fail "--dir lab1-nobuild: points given"
grep -q "harness error" "$out" && fail "--dir lab1-nobuild: a harness error"

# --fail-fast: the first failure ends the lab; the rest are not run and score 0.
"$G" --logs "$logs" --lab lab1-lamport --dir "$tmp/broken" --fail-fast >"$out" 2>&1
[ $? = 1 ] || fail "--fail-fast: exit status not 1"
[ "$(grep -c "^== lab1-lamport: .* == FAIL" "$out")" = 1 ] || fail "--fail-fast: not one FAIL"
n=$(grep -c "^== lab1-lamport: .* == NOT RUN" "$out")
[ "$n" = $((ntests - 1)) ] || fail "--fail-fast: $n tests not run, not $((ntests - 1))"
max=$("$G" --list | awk '$1 == "lab1-lamport" { s += $3 } END { print s }')
grep -q "^Score: 0/$max\$" "$out" || fail "--fail-fast: the score does not count the tests not run"

# Two copies with the same name: default logs in different places, the printed path is real.
for c in a b; do
    "$G" --dir "$tmp/$c/lab1-lamport" --test clock-condition --build nosuch >"$out" 2>&1
    eval "logs_$c=\$(sed -n 's/^    logs: //p' \"\$out\")"
done
case $logs_a in "$ROOT"/grading/logs/lab1-lamport-????????/lab1-lamport/clock-condition) ;;
*) fail "--dir: logs in '$logs_a', not ROOT/grading/logs/lab1-lamport-HASH/lab1-lamport/..." ;; esac
[ -d "$logs_a" ] || fail "--dir: printed logs $logs_a do not exist"
[ "$logs_a" != "$logs_b" ] || fail "--dir: two copies share logs $logs_a"
rm -rf "${logs_a%/lab1-lamport/clock-condition}" "${logs_b%/lab1-lamport/clock-condition}"

# --dir without --lab: from the Makefile when the name says nothing; else exit 2 and say so.
mv "$tmp/b/lab1-lamport" "$tmp/b/mine"
expect 1 "holds lab1-lamport" --dir "$tmp/b/mine" --test clock-condition --build nosuch
mkdir "$tmp/empty"
expect 2 "which lab is in .*give --lab" --dir "$tmp/empty"


# --jobs: several tests at once, printed in table order all the same.
expect 2 "usage: grade" --jobs 0
expect 1 "Score: 0/20" --lab lab1-lamport --test duplicates,clock-condition --build nosuch --jobs 2
order=$(sed -n 's/^== lab1-lamport: \([a-z-]*\) .*/\1/p' "$out" | tr '\n' ' ')
[ "$order" = "clock-condition duplicates " ] ||
    fail "--jobs 2 printed '$order', not the table order"

[ $fails = 0 ] && echo "cli.sh: every command-line check passed"
exit $((fails != 0))
