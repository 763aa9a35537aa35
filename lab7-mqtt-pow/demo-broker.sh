#!/bin/sh
# demo-broker.sh [PORT] [--auth] - a private Mosquitto for the walk-through (no system service
# needed): a plain listener on 127.0.0.1:PORT (default 18830), config generated in a temp dir.
# --auth: the broker's own security, as a real deployment would run it: no anonymous clients,
# a password_file with the accounts pownode (password: the first line of demo.secret, next to
# this lab's Makefile) and watcher (password "watch"), and an ACL: pownode may read and write
# system/#, watcher may only read it.
port=${1:-18830}
auth=${2:-}
mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
dir=$(mktemp -d /tmp/lab7-broker-XXXXXX) || exit 1
{
    echo "listener $port 127.0.0.1"
    echo "persistence false"
    # As root, mosquitto would switch to the user 'mosquitto' (and fail to read key files).
    [ "$(id -u)" = 0 ] && echo "user root"
    if [ "$auth" = --auth ]; then
        echo "allow_anonymous false"
        echo "password_file $dir/passwd"
        echo "acl_file $dir/acl"
    else
        echo "allow_anonymous true"
    fi
} > "$dir/mosquitto.conf"
if [ "$auth" = --auth ]; then
    secret="$(dirname "$0")/../demo.secret"
    [ -r "$secret" ] || { echo "demo-broker: $secret is missing" >&2; exit 1; }
    printf 'pownode:%s\nwatcher:watch\n' "$(head -n 1 "$secret")" > "$dir/passwd"
    mosquitto_passwd -U "$dir/passwd" || exit 1 # plain text to hashes
    printf 'user pownode\ntopic readwrite system/#\nuser watcher\ntopic read system/#\n' \
        > "$dir/acl"
fi
echo "demo-broker: $mosq on 127.0.0.1:$port, config $dir/mosquitto.conf" >&2
exec "$mosq" -v -c "$dir/mosquitto.conf"
