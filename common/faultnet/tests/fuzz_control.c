/* fuzz_control.c - libFuzzer harness for faultnet's control-file parser (parse_text_locked).
 * The parser is static, so this file #includes faultnet.c, with the five functions the library
 * interposes (sendto, send, sendmsg, connect, close) renamed so that the harness's own calls
 * still reach libc, and its diagnostics (write to fd 2) counted instead of printed. Without
 * FAULTNET_CONF the library stays inert. A parsed configuration must be within its documented
 * ranges whatever the file says. `make -C common/faultnet fuzz` runs it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t quiet_write(int fd, const void *buf, size_t n);

#define sendto faultnet_sendto
#define send faultnet_send
#define sendmsg faultnet_sendmsg
#define connect faultnet_connect
#define close faultnet_close
#define write quiet_write
#include "../faultnet.c"
#undef write

static unsigned long said; /* diagnostics the parser wrote for bad lines */

static ssize_t quiet_write(int fd, const void *buf, size_t n)
{
    if (fd == 2) {
        said++;
        return (ssize_t)n;
    }
    return write(fd, buf, n);
}

#define FUZZ_ASSERT(c)                                                                        \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_control: property failed: %s (%s:%d)\n", #c, __FILE__,      \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_conf(const struct fn_conf *c)
{
    FUZZ_ASSERT(c->drop >= 0 && c->drop <= 1 && c->dup >= 0 && c->dup <= 1);
    FUZZ_ASSERT(c->delay_lo_ms >= 0 && c->delay_lo_ms <= c->delay_hi_ms &&
                c->delay_hi_ms <= 60000);
    FUZZ_ASSERT(c->reorder_p >= 0 && c->reorder_p <= 1 && c->reorder_ms >= 0 &&
                c->reorder_ms <= 60000);
    FUZZ_ASSERT(c->nports >= 0 && c->nports <= FN_MAX_PORTS);
    for (int i = 0; i < c->nports; i++) {
        FUZZ_ASSERT(c->ports[i].port >= 1 && c->ports[i].node >= 0 &&
                    c->ports[i].node < FN_MAX_NODES);
        for (int j = 0; j < i; j++)
            FUZZ_ASSERT(c->ports[i].port != c->ports[j].port); /* the later line wins */
    }
    for (int i = 0; i < FN_MAX_NODES; i++)
        FUZZ_ASSERT(c->group[i] >= -1 && c->group[i] < FN_MAX_TOKENS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FN_MAX_CONF)
        return 0; /* read_conf_locked reads at most this much */
    memcpy(fn.text, data, size);
    fn.text[size] = '\0';
    fn.nwarned = 0; /* each input starts with a fresh "reported once" memory */
    parse_text_locked(&fn.scratch);
    check_conf(&fn.scratch);
    return 0;
}
