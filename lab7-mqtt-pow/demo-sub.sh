#!/bin/sh
# demo-sub.sh [PORT] [--auth] - print every message of the protocol, topic first. Retries while
# the broker of the demo is still starting (mosquitto_sub itself gives up at once). --auth: log
# in as demo-broker's read-only account watcher.
port=${1:-18830}
login=""
[ "${2:-}" = --auth ] && login="-u watcher -P watch"
# shellcheck disable=SC2086 # login is two options or none
while ! mosquitto_sub -h 127.0.0.1 -p "$port" $login -t 'system/#' -v; do
    echo "demo-sub: no broker on 127.0.0.1:$port yet, retrying" >&2
    sleep 1
done
