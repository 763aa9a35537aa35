#!/bin/sh
# install-deps.sh - make sure what the kit needs is installed: Check, pkg-config, Valgrind, Mosquitto,
# OpenSSL (library and command) for lab7's TLS build and its test certificates, and clang with
# libFuzzer for `make fuzz` (Debian ships libFuzzer apart from clang, in libclang-rt-dev).
# Installs the missing ones with apt-get (through sudo when not root), or prints the exact command.
need=""
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
pkg-config --exists check 2>/dev/null || need="$need check"
command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need="$need mosquitto"
command -v mosquitto_sub >/dev/null 2>&1 || need="$need mosquitto-clients"
pkg-config --exists openssl 2>/dev/null || need="$need libssl-dev"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
# libFuzzer works when clang can link a fuzz target; probe it, since the package names vary.
fuzz_ok() {
    d=$(mktemp -d) || return 1
    echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }' >"$d/t.c"
    clang -fsanitize=fuzzer -o "$d/t" "$d/t.c" >/dev/null 2>&1
    rc=$?
    rm -rf "$d"
    return $rc
}
# Debian 12 has libFuzzer in libclang-rt-dev; where that package does not exist, clang has it.
rt_pkg() { apt-cache show libclang-rt-dev >/dev/null 2>&1 && echo " libclang-rt-dev"; }
# Without package lists yet, apt-cache knows no package: then take Debian's name, or (clang itself
# missing too) look again once clang is in, below.
if ! command -v clang >/dev/null 2>&1; then
    need="$need clang$(rt_pkg)"
    fuzz_again=1
elif ! fuzz_ok; then
    rt=$(rt_pkg)
    need="$need${rt:- libclang-rt-dev}"
fi
[ -z "$need" ] && exit 0

echo "install-deps: missing:$need"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no apt-get here; install these packages with your system's package manager:$need" >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "install-deps: run this, then make again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y$need" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update only when the first try fails.
$SUDO apt-get install -y -q $need || { $SUDO apt-get update -q && $SUDO apt-get install -y -q $need; } || {
    echo "install-deps: apt-get failed; run:  sudo apt-get update && sudo apt-get install -y$need" >&2
    exit 1
}
# clang came with this run; if the lists were empty when rt_pkg looked, libFuzzer may be missing.
if [ -n "${fuzz_again:-}" ] && ! fuzz_ok; then
    rt=$(rt_pkg)
    [ -z "$rt" ] || $SUDO apt-get install -y -q $rt || {
        echo "install-deps: apt-get failed; run:  sudo apt-get install -y$rt" >&2
        exit 1
    }
fi
