/* acct.c - which incoming coins a player may accept (see acct.h for the rules and why). */
#include "acct.h"

#include <string.h>

void acct_init(struct acct *a, int n, uint32_t gold)
{
    memset(a, 0, sizeof *a);
    a->supply = (uint64_t)n * gold;
}

const char *acct_check(const struct acct *a, int from, uint32_t seq, uint32_t gold,
                       uint32_t balance)
{
    if (from < 0 || from >= PROTO_MAX_NODES || seq == 0)
        return "bad_seq"; /* numbers start at 1 */
    if (seq <= a->last_seq[from])
        return "replay"; /* FIFO channel, increasing numbers: this one was seen, or skipped */
    if (gold == 0)
        return "bad_gold";
    if ((uint64_t)balance + gold > a->supply) /* 64-bit: the sum itself cannot wrap */
        return "overflow";
    return NULL;
}

void acct_accept(struct acct *a, int from, uint32_t seq)
{
    a->last_seq[from] = seq;
}
