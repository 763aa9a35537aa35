#!/bin/sh
# demo-sub.sh [PORT] - print every message of the protocol, topic first. Retries while the
# broker of the demo is still starting (mosquitto_sub itself gives up at once).
port=${1:-18830}
while ! mosquitto_sub -h 127.0.0.1 -p "$port" -t 'system/#' -v; do
    echo "demo-sub: no broker on 127.0.0.1:$port yet, retrying" >&2
    sleep 1
done
