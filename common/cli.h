/* cli.h - the command-line and start-up helpers of the labs' main.c files.
 *
 * The canonical copy lives in the kit's common/; a lab carries a verbatim copy (so a lab copied
 * out of the kit still builds), and `make test` fails if a copy drifts. Do not edit a lab's copy.
 */
#ifndef CLI_H
#define CLI_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The program's name in messages: "lamport: --id: expected ...". Set it first thing in main. */
extern const char *cli_prog;

/* "<prog>: <message>" on stderr. */
void cli_complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up failed (socket, bind, pipe, sigaction): say why and exit 1. */
void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A whole decimal number in [min, max]: no sign, no spaces, no trailing junk, no overflow. */
bool cli_to_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* The same, complaining "<flag>: expected a whole number from min to max, got '<s>'". */
bool cli_u64(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "127.0.0.1:7001" (len bytes of s) into *out. Numeric IPv4 only: nodes are recognised by their
 * address, and a name could resolve differently on different machines. */
bool cli_hostport(const char *s, size_t len, struct sockaddr_in *out);
/* "H:P,H:P,..." into addrs[0..max-1], no address twice. Returns how many, or -1 after
 * complaining about the first bad entry. */
int cli_nodes(const char *flag, const char *list, struct sockaddr_in *addrs, int max);

/* A seed that differs between runs and between nodes started together (time ^ pid). */
uint64_t cli_default_seed(void);

/* The self-pipe: SIGINT and SIGTERM write 'x' to it, extra_sig (0 for none, e.g. SIGUSR1)
 * writes 'u'; SIGPIPE is ignored, so a closed stdout makes write() fail instead of killing the
 * node before its stats. Returns the read end for the poll() loop; dies if it cannot. */
int cli_signals(int extra_sig);

#endif
