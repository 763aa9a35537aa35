#!/bin/sh
# bench.sh - transfers per second with 1, 8 and 32 clients, one fdatasync per transfer vs group
# commit, and redis-benchmark -t incr with the same client counts when redis is installed.
# Usage: sh bench.sh [BUILD_DIR]   (make bench runs it). Not part of make test.
set -u
B=${1:-build}
TOTAL=${TOTAL:-1600}          # transfers per measurement, split among the clients
PORT=${PORT:-$((20000 + $$ % 20000))}
TMP=$(mktemp -d /tmp/wallet-bench.XXXXXX)
trap 'kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
SERVER=

now() { date +%s.%N; }

# Start wallet-server and wait for its ev=ready line (read from a fifo: no sleeping).
start_server() {
    rm -rf "$TMP/dir" && mkdir -p "$TMP/dir"
    rm -f "$TMP/fifo" && mkfifo "$TMP/fifo"
    "$B/wallet-server" --port "$PORT" --dir "$TMP/dir" --sync "$1" --max-conns 200 \
        >"$TMP/fifo" 2>"$TMP/server.err" &
    SERVER=$!
    exec 3<"$TMP/fifo"
    while read -r line <&3; do
        case "$line" in *ev=ready*) break ;; esac
    done
    cat <&3 >"$TMP/server.out" &  # keep draining its events
    exec 3<&-
}

stop_server() {
    kill "$SERVER" && wait "$SERVER" 2>/dev/null
    SERVER=
    wait  # the cat draining its output
}

# transfers per fdatasync, from the server's ev=stats line
per_sync() {
    sed -n 's/.*ev=stats .*transfers=\([0-9]*\) syncs=\([0-9]*\).*/\1 \2/p' "$TMP/server.out" |
        awk '{ printf "%8.1f", $2 ? $1 / $2 : 0 }'
}

# $1 clients, each sending TOTAL/$1 transfers to random peers (a sink wallet included).
run_clients() {
    n=$1
    per=$((TOTAL / n))
    "$B/wallet-client" --server "127.0.0.1:$PORT" --id $((n + 1)) --register --quiet \
        </dev/null >/dev/null
    t0=$(now)
    i=1
    while [ $i -le "$n" ]; do
        "$B/wallet-client" --server "127.0.0.1:$PORT" --id $i --random-transfers $per \
            --peers $((n + 1)) --seed $i --quiet </dev/null >"$TMP/c$i.out" &
        i=$((i + 1))
    done
    wait $(jobs -p | grep -v "^$SERVER\$") 2>/dev/null
    t1=$(now)
    acks=$(cat "$TMP"/c*.out | grep -c "ev=ack")
    rm -f "$TMP"/c*.out
    awk -v a="$acks" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%8.0f", a / (t1 - t0) }'
}

echo "wallet-server: transfers/s (each = KEY + SEND round trips, ${TOTAL} transfers per cell)"
printf "%-28s %8s %8s %8s\n" "" "1" "8" "32"
for mode in each group; do
    printf "%-28s" "sync=$mode"
    ratios=""
    for c in 1 8 32; do
        start_server $mode
        printf " %s" "$(run_clients $c)"
        stop_server
        ratios="$ratios $(per_sync)"
    done
    echo
    printf "%-28s%s\n" "  transfers per fdatasync" "$ratios"
done

if command -v redis-server >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1; then
    RPORT=$((PORT + 1))
    for aof in no always; do
        rm -rf "$TMP/redis" && mkdir -p "$TMP/redis"
        if [ $aof = no ]; then opts="--appendonly no"; label="redis INCR (no persistence)"
        else opts="--appendonly yes --appendfsync always"; label="redis INCR (AOF fsync always)"; fi
        redis-server --port "$RPORT" --dir "$TMP/redis" --save "" $opts --daemonize no \
            >"$TMP/redis.log" 2>&1 &
        RPID=$!
        until redis-cli -p "$RPORT" ping >/dev/null 2>&1; do sleep 0.02; done # a few ms
        printf "%-28s" "$label"
        for c in 1 8 32; do
            r=$(redis-benchmark -p "$RPORT" -t incr -c $c -n 20000 -q 2>/dev/null |
                tr '\r' '\n' | awk '/requests per second/ { v = $2 } END { print v }')
            printf " %8.0f" "${r:-0}"
        done
        echo
        kill $RPID && wait $RPID 2>/dev/null
    done
else
    echo "redis-server/redis-benchmark not installed: no reference numbers"
    echo "(apt-get install -y redis-server redis-tools, then make bench again)"
fi
