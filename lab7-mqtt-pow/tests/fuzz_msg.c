/* fuzz_msg.c - libFuzzer harness for msg_decode, the node's decoder of every MQTT payload: a
 * decoded message re-encodes (msg_encode) within MSG_MAX_PAYLOAD to a payload that decodes to the
 * same message and re-encodes to the same bytes, with room for --key's trailer (auth.h).
 * `make fuzz` runs it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "msg.h"

#define FUZZ_ASSERT(c)                                                                        \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_msg: property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct msg m, again;
    char buf[MSG_MAX_PAYLOAD], buf2[MSG_MAX_PAYLOAD];
    const char *why = NULL;
    if (msg_decode((const char *)data, size, &m, &why) != 0) {
        FUZZ_ASSERT(why && *why && !strchr(why, ' ')); /* it goes into ev=bad why=<token> */
        return 0;
    }
    FUZZ_ASSERT(strcmp(msg_type_name(m.type), "?") != 0);
    FUZZ_ASSERT(m.node <= MSG_MAX_NODE && m.winner <= MSG_MAX_NODE &&
                m.difficulty <= MSG_MAX_DIFFICULTY && strlen(m.data) <= MSG_MAX_DATA);
    size_t n = msg_encode(&m, buf, sizeof buf);
    FUZZ_ASSERT(n > 0 && n < sizeof buf && buf[n] == '\0');
    FUZZ_ASSERT(n + AUTH_TRAILER_MAX < MSG_MAX_PAYLOAD); /* a signed one fits too */
    FUZZ_ASSERT(msg_decode(buf, n, &again, &why) == 0);
    FUZZ_ASSERT(memcmp(&again, &m, sizeof m) == 0); /* msg_decode memsets: padding is zero */
    FUZZ_ASSERT(msg_encode(&again, buf2, sizeof buf2) == n && memcmp(buf, buf2, n) == 0);
    return 0;
}
