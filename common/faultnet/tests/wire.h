/* wire.h - the probe's datagram format, shared by the probe program and the Check tests. */
#ifndef FAULTNET_WIRE_H
#define FAULTNET_WIRE_H

#include <stddef.h>
#include <stdint.h>

/*
 * A data datagram is 16 bytes, big-endian: magic "FNT1", sequence number, and the sender's
 * CLOCK_MONOTONIC time in ns when it called send (the same clock in every process, so the
 * receiver can compute a lower bound on the delay). Packed by hand, never a struct on the wire.
 * Control datagrams on the other socket are plain text: "SYNC", "END", answered by "ACK".
 */
#define WIRE_MAGIC 0x464E5431u
#define WIRE_LEN 16

static inline void wire_put(unsigned char *b, uint32_t seq, uint64_t ns)
{
    uint32_t w[2] = { WIRE_MAGIC, seq };
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(w[i / 4] >> (24 - 8 * (i % 4)));
    for (int i = 0; i < 8; i++)
        b[8 + i] = (unsigned char)(ns >> (56 - 8 * i));
}

/* Returns 0 and fills seq/ns for a well-formed datagram, -1 otherwise. */
static inline int wire_get(const unsigned char *b, size_t len, uint32_t *seq, uint64_t *ns)
{
    uint32_t w[2] = { 0, 0 };
    uint64_t t = 0;
    if (len != WIRE_LEN)
        return -1;
    for (int i = 0; i < 8; i++)
        w[i / 4] = (w[i / 4] << 8) | b[i];
    for (int i = 0; i < 8; i++)
        t = (t << 8) | b[8 + i];
    if (w[0] != WIRE_MAGIC)
        return -1;
    *seq = w[1];
    *ns = t;
    return 0;
}

#endif
