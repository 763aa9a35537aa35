/* conntab.h - the inbound connection table's rules: who gets a slot, who is timed out, which of
 * several connections claiming one player id is that player's channel. No sockets inside. */
#ifndef CONNTAB_H
#define CONNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* At most this many open connections may claim one player id while none of them has said
 * anything but HELLO (see ctab_on_hello). */
#define CTAB_CLAIMS 2

/*
 * An inbound connection goes through three states:
 *   stranger  (peer < 0): accepted, no HELLO yet. It must send one within --hello-ms, and when
 *             the table is full the oldest stranger makes room for a newcomer, so a flood of
 *             silent connections can never lock a real player out.
 *   claim     (peer >= 0, !spoke): a HELLO said "I am player peer". Without a key that proves
 *             nothing, so a claim is not yet that player's channel: a second claim for the same
 *             id is accepted too (the real player coming after a forger), and a claim that ends
 *             or breaks is not taken as the death of that player.
 *   channel   (spoke): the first claim whose frame was accepted (coins, a marker, a report)
 *             becomes player peer's channel; the other claims for peer are closed, and later
 *             HELLOs for peer are refused. From then on its end is that player's death.
 */
struct conn {
    int fd;   /* -1: slot free */
    int peer; /* -1 until its HELLO */
    bool spoke;
    int64_t since_us; /* when it was accepted (stranger) or its HELLO was (claim) */
    uint8_t buf[4 * PROTO_MAX_FRAME];
    size_t len;
};

/* A free slot, or -1. */
int ctab_free(const struct conn *t, int n);

/* The stranger accepted first, or -1 if there is none. */
int ctab_oldest_stranger(const struct conn *t, int n);

/* A stranger that has waited limit_us or more for its HELLO, or -1. */
int ctab_expired(const struct conn *t, int n, int64_t now_us, int64_t limit_us);

/* When the next stranger's HELLO time is up; INT64_MAX if there is no stranger. */
int64_t ctab_next_expiry(const struct conn *t, int n, int64_t limit_us);

enum ctab_hello {
    CTAB_ACCEPT, /* take it as a claim */
    CTAB_TAKEN,  /* player peer already has a channel: refuse the HELLO (dup_peer) */
    CTAB_EVICT,  /* CTAB_CLAIMS claims already: close *victim (the oldest), then accept */
};

/* A HELLO for player peer arrived on slot self (a stranger): what to do. */
enum ctab_hello ctab_on_hello(const struct conn *t, int n, int self, int peer, int *victim);

/* Slot self's first accepted frame made it player peer's channel: the other claims for peer,
 * one per call, to be closed; -1 when there are none left. */
int ctab_rival(const struct conn *t, int n, int self);

#endif
