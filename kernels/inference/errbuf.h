/* errbuf.h — build short error messages into a caller's buffer without printf.
 *
 *   errbuf e = errbuf_init(err, errlen);
 *   errbuf_s(&e, "gguf: tensor "); errbuf_n(&e, name, len); errbuf_u(&e, off);
 *
 * Output is always NUL-terminated and silently truncated to the buffer.
 */
#ifndef ERRBUF_H
#define ERRBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t cap, n;
} errbuf;

errbuf errbuf_init(char *buf, size_t cap);
void errbuf_s(errbuf *e, const char *s);               /* NUL-terminated string */
void errbuf_n(errbuf *e, const char *s, size_t len);   /* counted string, non-printables as '?' */
void errbuf_u(errbuf *e, uint64_t v);                  /* decimal */
void errbuf_i(errbuf *e, int64_t v);
void errbuf_f(errbuf *e, double v, int decimals);      /* fixed point */

#endif
