#!/bin/sh
# run.sh [LAB...] - the judge tests itself: grade every mutant of grading/mutants/<lab>/ and fail
# unless each bug loses points and each equivalent variant keeps full marks.
#
# A mutant is a patch against the lab directory (paths a/file.c, b/file.c; patch -p1), after
# header lines that patch ignores:
#   <name>.patch        # bug: <the student's mistake>      # caught-by: test1,test2
#   equiv-<name>.patch  # equivalent: <a different but correct choice>
# Each is applied to a fresh copy of the lab, built (incrementally, from the lab's own build), and graded at seed $SEED (default 1) with
# the kit's grader. A bug is first graded on the tests named in caught-by (fast, and it says
# whether the grader catches it where we expect); only if it keeps full marks there is the whole
# lab graded. An equivalent is graded on the whole lab. MUTANT=name runs one mutant only.
set -u
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
grade="$root/grading/build/grade"
seed=${SEED:-1}
only=${MUTANT:-}
gflags=${GRADE_FLAGS:-}
jobs=${MUTANT_JOBS:-3}
case $jobs in '' | *[!0-9]* | 0) echo "run.sh: MUTANT_JOBS must be a number >= 1" >&2; exit 2 ;; esac
# Mutant k's grader takes share k of MUTANT_PORT_SHARES (default MUTANT_JOBS) of the ports:
# more shares than jobs leave the rest to graders running beside this one (.ci/run).
shares=${MUTANT_PORT_SHARES:-$jobs}
case $shares in '' | *[!0-9]*) shares=0 ;; esac
[ "$shares" -ge "$jobs" ] ||
    { echo "run.sh: MUTANT_PORT_SHARES must be a number >= MUTANT_JOBS" >&2; exit 2; }
[ -x "$grade" ] || { echo "run.sh: $grade is not built (run make first)" >&2; exit 2; }

if [ "${1:-}" != --one ]; then
    labs=$*
    [ -n "$labs" ] ||
        labs=$(cd grading/mutants && for d in */; do [ -d "$d" ] && echo "${d%/}"; done)
    [ -n "$labs" ] || { echo "run.sh: no grading/mutants/<lab>/ directory" >&2; exit 2; }
    work=$(mktemp -d "${TMPDIR:-/tmp}/kit-mutants.XXXXXX") || exit 2
    trap 'rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM
fi

header() { sed -n "s/^# $2: *//p" "$1" | head -n 1; }

# grade_copy LAB COPY TESTS LOG: grade COPY (all tests when TESTS is empty); prints "score max".
grade_copy() {
    # shellcheck disable=SC2086 # gflags is a list of flags
    "$grade" --lab "$1" --dir "$2" --seed "$seed" --logs "$work/logs/${2##*/}" \
        --jobs 2 --ports "${SLOT:-0}/$shares" ${3:+--test "$3"} $gflags >"$4" 2>&1
    sed -n 's/.*Score: \([0-9]*\)\/\([0-9]*\).*/\1 \2/p' "$4" | tail -n 1
}

# The tests that lost points, from the grader's Failed: list ("  lab: test (5 pts, ...").
failed_tests() {
    sed -n "s/^  $1: \([a-z0-9-]*\) (.*/\1/p" "$2" | paste -sd, -
}

# one LAB PATCH: grade one mutant; writes $work/res/LAB/NAME (its kind and outcome, then its
# table line and, for a failure, the end of its log) and prints the same lines at once.
one() {
    lab=$1 p=$2
    name=$(basename "$p" .patch)
    case $name in equiv-*) kind=equiv ;; *) kind=bug ;; esac
    start=$(date +%s)
    copy="$work/$lab-$name"
    # The copy starts from the lab's own build (make mutants builds it first), timestamps kept:
    # make then recompiles only what the patch touched (objects depend on their headers through
    # the compiler's .d files) and links, ~1 s instead of a whole lab's ~4 s of CPU.
    rm -rf "$copy" && cp -rp "$lab" "$copy" && rm -rf "$copy"/build-* "$copy"/logs
    log="$work/$lab-$name.log"
    outcome=bad
    if ! patch -s -p1 -d "$copy" <"$p" >"$log" 2>&1; then
        result="ERROR: the patch does not apply"
    elif ! make -s -C "$copy" >>"$log" 2>&1; then
        result="ERROR: the mutant does not build"
    elif [ $kind = equiv ]; then
        # shellcheck disable=SC2046 # two words: score, max
        set -- $(grade_copy "$lab" "$copy" "" "$log")
        if [ $# -eq 2 ] && [ "$1" = "$2" ]; then
            result="- (full marks, $1/$2: right)"
            outcome=ok
        else
            result="WRONG: an equivalent lost points (${1:-?}/${2:-?}): $(failed_tests "$lab" "$log")"
        fi
    else
        expect=$(header "$p" caught-by)
        if [ -z "$expect" ]; then
            result="ERROR: no '# caught-by:' line"
            set --
        else
            # shellcheck disable=SC2046 # two words: score, max
            set -- $(grade_copy "$lab" "$copy" "$expect" "$log")
        fi
        where=""
        if [ -n "$expect" ] && [ $# -eq 2 ] && [ "$1" = "$2" ]; then # not where expected
            # shellcheck disable=SC2046 # two words: score, max
            set -- $(grade_copy "$lab" "$copy" "" "$log")
            where=" (not by caught-by: $expect)"
        fi
        if [ $# -eq 2 ] && [ "$1" != "$2" ]; then
            result="$(failed_tests "$lab" "$log") ($1/$2)$where"
            outcome=caught
        elif [ -n "$expect" ]; then
            result="SURVIVED: full marks (${1:-?}/${2:-?}): $(header "$p" bug)"
        fi
    fi
    out="$work/res/$lab/$name"
    {
        echo "$kind $outcome"
        printf '%-20s %-28s %-6s %-40s %s\n' "$lab" "$name" $kind "$result" \
            $(($(date +%s) - start))
        [ $outcome = bad ] && sed 's/^/    | /' "$log" | tail -n 15
        rm -rf "$copy"
    } >"$out.tmp"
    mv "$out.tmp" "$out"
    sed 1d "$out" # one write of a few lines: whole, even among parallel jobs
}

if [ "${1:-}" = --one ]; then # run.sh --one WORK LAB PATCH, from xargs below
    work=$2
    one "$3" "$4"
    exit 0
fi

bad=0
for lab in $labs; do
    [ -d "grading/mutants/$lab" ] || { echo "run.sh: no mutants for $lab" >&2; bad=1; continue; }
    [ -d "$lab" ] || { echo "run.sh: no lab directory $lab" >&2; bad=1; continue; }
    mkdir -p "$work/res/$lab"
    for p in grading/mutants/"$lab"/*.patch; do
        [ -e "$p" ] || continue
        [ -z "$only" ] || [ "$only" = "$(basename "$p" .patch)" ] || continue
        echo "$lab $p"
    done
done >"$work/list"
printf '%-20s %-28s %-6s %-40s %s\n' lab mutant kind "caught by (tests that lost points)" secs
xargs -P "$jobs" -L 1 --process-slot-var=SLOT sh "$self" --one "$work" <"$work/list"

total_bugs=0
total_caught=0
for lab in $labs; do
    [ -d "$work/res/$lab" ] || continue
    bugs=0
    caught=0
    while read -r l p; do
        [ "$l" = "$lab" ] || continue
        r="$work/res/$lab/$(basename "$p" .patch)"
        # shellcheck disable=SC2046 # two words: kind, outcome
        set -- $(head -n 1 "$r" 2>/dev/null)
        [ "${1:-}" = bug ] && bugs=$((bugs + 1))
        [ "${2:-}" = caught ] && caught=$((caught + 1))
        [ "${2:-}" = bad ] || [ $# -eq 0 ] && bad=1
    done <"$work/list"
    [ $bugs -gt 0 ] && echo "$lab: $caught of $bugs bugs caught ($((100 * caught / bugs))%)"
    total_bugs=$((total_bugs + bugs))
    total_caught=$((total_caught + caught))
done
[ $total_bugs -gt 0 ] || [ -n "$only" ] || { echo "run.sh: no bug was graded" >&2; bad=1; }
[ -s "$work/list" ] || { echo "run.sh: no mutant matched" >&2; bad=1; }
[ $total_bugs -gt 0 ] && echo "kill rate: $total_caught of $total_bugs bugs caught" \
    "($((100 * total_caught / total_bugs))%)"
if [ $bad -ne 0 ]; then
    echo "make mutants: FAILED (a bug kept full marks, an equivalent lost points, or a mutant" \
        "did not apply or build)"
    exit 1
fi
echo "make mutants: every bug lost points and every equivalent kept full marks"
