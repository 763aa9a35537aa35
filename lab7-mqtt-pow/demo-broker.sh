#!/bin/sh
# demo-broker.sh [PORT] - a private Mosquitto for the walk-through (no system service needed):
# a plain listener on 127.0.0.1:PORT (default 18830), config generated in a temp dir.
port=${1:-18830}
mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
dir=$(mktemp -d /tmp/lab7-broker-XXXXXX) || exit 1
{
    echo "listener $port 127.0.0.1"
    echo "allow_anonymous true"
    echo "persistence false"
    # As root, mosquitto would switch to the user 'mosquitto' (and fail to read key files).
    [ "$(id -u)" = 0 ] && echo "user root"
} > "$dir/mosquitto.conf"
echo "demo-broker: $mosq on 127.0.0.1:$port, config $dir/mosquitto.conf" >&2
exec "$mosq" -v -c "$dir/mosquitto.conf"
