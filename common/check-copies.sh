#!/bin/sh
# check-copies.sh - each lab carries verbatim copies of the small helpers in common/ (so a lab
# copied out of the kit still builds): evlog, cli, sha256, hmac, auth, fuzz.mk, and the helpers' own
# tests in common/tests/ (a lab's tests/ holds those). Fail if a copy has drifted from common/.
cd "$(dirname "$0")/.." || exit 2
status=0
checked=0
# Files that share a name with a common/ helper but are a lab's own module, not a copy: lab5's
# auth.c keeps a replay window per sender name (multicast reorders), lab7's signs MQTT payloads
# (topic + JSON); both reuse only the key-file and stamp rules of common/auth.c.
OWN="lab5-chat-multicast/auth.c lab5-chat-multicast/auth.h lab5-chat-multicast/tests/check_auth.c
     lab7-mqtt-pow/auth.c lab7-mqtt-pow/auth.h lab7-mqtt-pow/tests/check_auth.c"
# compare CANON WHERE: every lab*/WHERE<name of CANON> must be the same bytes as CANON
compare() {
    name=$(basename "$1")
    for copy in lab*/"$2$name"; do
        [ -f "$copy" ] || continue
        own=no
        for o in $OWN; do [ "$o" = "$copy" ] && own=yes; done
        [ $own = yes ] && continue
        checked=$((checked + 1))
        if ! cmp -s "$1" "$copy"; then
            echo "drift: $copy differs from $1; copy it again: cp $1 $copy"
            status=1
        fi
    done
}
for canon in common/*.c common/*.h common/*.mk; do
    [ -f "$canon" ] && compare "$canon" ""
done
for canon in common/tests/*.c; do
    [ -f "$canon" ] && compare "$canon" tests/
done
echo "$checked lab copies of common/ helpers checked"
exit $status
