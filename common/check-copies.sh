#!/bin/sh
# check-copies.sh - each lab carries verbatim copies of the small helpers in common/ (so a lab
# copied out of the kit still builds); fail if a copy has drifted from the canonical file.
cd "$(dirname "$0")/.." || exit 2
status=0
checked=0
for canon in common/*.c common/*.h; do
    [ -f "$canon" ] || continue
    name=$(basename "$canon")
    for copy in lab*/"$name"; do
        [ -f "$copy" ] || continue
        checked=$((checked + 1))
        if ! cmp -s "$canon" "$copy"; then
            echo "drift: $copy differs from $canon; copy it again: cp $canon $copy"
            status=1
        fi
    done
done
echo "$checked lab copies of common/ helpers checked"
exit $status
