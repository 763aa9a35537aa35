/* fuzz_mqtt.c - libFuzzer harness for mqtt_decode on a byte stream from the broker: packets are
 * decoded one after the other as mqtt_client.c does. Every strict prefix of a packet is "need
 * more"; a PUBLISH or PUBACK re-encodes to a packet that decodes to the same fields (and to the
 * same bytes when the Remaining Length was written in its shortest form, 2.2.3); Remaining Length
 * itself round-trips. `make fuzz` runs it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_codec.h"

#define FUZZ_ASSERT(c)                                                                         \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            fprintf(stderr, "fuzz_mqtt: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#define MAX_INPUT (1 << 16)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_publish(const uint8_t *pkt, size_t len, size_t rl_bytes,
                          const struct mqtt_publish *p)
{
    static uint8_t buf[MAX_INPUT + 16];
    struct mqtt_packet again;
    size_t n = mqtt_encode_publish(buf, sizeof buf, p);
    FUZZ_ASSERT(n > 0);
    FUZZ_ASSERT(mqtt_decode(buf, n, &again) == (int)n && again.type == MQTT_PUBLISH);
    const struct mqtt_publish *q = &again.u.publish;
    FUZZ_ASSERT(q->qos == p->qos && q->retain == p->retain && q->dup == p->dup && q->id == p->id);
    FUZZ_ASSERT(q->topic_len == p->topic_len && memcmp(q->topic, p->topic, p->topic_len) == 0);
    FUZZ_ASSERT(q->payload_len == p->payload_len &&
                memcmp(q->payload, p->payload, p->payload_len) == 0);
    uint8_t rl[4];
    if ((size_t)mqtt_rl_encode((uint32_t)(len - 1 - rl_bytes), rl) == rl_bytes)
        FUZZ_ASSERT(n == len && memcmp(buf, pkt, len) == 0);
}

static void check_packet(const uint8_t *pkt, size_t len, const struct mqtt_packet *p)
{
    struct mqtt_packet tmp;
    uint32_t rl;
    uint8_t enc[4], buf[8];
    int rl_bytes = mqtt_rl_decode(pkt + 1, len - 1, &rl);
    FUZZ_ASSERT(rl_bytes >= 1 && rl_bytes <= 4 && 1 + (size_t)rl_bytes + rl == len);
    int k = mqtt_rl_encode(rl, enc);
    FUZZ_ASSERT(k >= 1 && k <= rl_bytes);
    uint32_t back;
    FUZZ_ASSERT(mqtt_rl_decode(enc, (size_t)k, &back) == k && back == rl);
    for (size_t cut = 1; cut < len; cut += 1 + cut / 4) /* prefixes: need more, never an error */
        FUZZ_ASSERT(mqtt_decode(pkt, cut, &tmp) == 0);
    if (p->type == MQTT_PUBLISH)
        check_publish(pkt, len, (size_t)rl_bytes, &p->u.publish);
    if (p->type == MQTT_PUBACK) {
        FUZZ_ASSERT(mqtt_encode_puback(buf, sizeof buf, p->u.id) == 4);
        FUZZ_ASSERT(mqtt_decode(buf, 4, &tmp) == 4 && tmp.type == MQTT_PUBACK && tmp.u.id == p->u.id);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    size_t off = 0;
    while (off < size) {
        struct mqtt_packet p;
        int rc = mqtt_decode(data + off, size - off, &p);
        if (rc == 0)
            break; /* a partial packet at the end */
        if (rc < 0) {
            const char *why = mqtt_strerror(rc);
            FUZZ_ASSERT(why && *why);
            break; /* malformed: the client drops the connection */
        }
        FUZZ_ASSERT((size_t)rc <= size - off);
        check_packet(data + off, (size_t)rc, &p);
        off += (size_t)rc;
    }
    return 0;
}
