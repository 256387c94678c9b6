/* errbuf.c — see errbuf.h. */
#include "errbuf.h"

errbuf errbuf_init(char *buf, size_t cap) {
    errbuf e = {buf, cap, 0};
    if (buf && cap) buf[0] = 0;
    return e;
}

static void put(errbuf *e, char c) {
    if (!e->buf || e->n + 1 >= e->cap) return;
    e->buf[e->n++] = c;
    e->buf[e->n] = 0;
}

void errbuf_s(errbuf *e, const char *s) {
    while (s && *s) put(e, *s++);
}

void errbuf_n(errbuf *e, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) put(e, (s[i] >= 32 && s[i] < 127) ? s[i] : '?');
}

void errbuf_u(errbuf *e, uint64_t v) {
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) put(e, tmp[--n]);
}

void errbuf_i(errbuf *e, int64_t v) {
    if (v < 0) { put(e, '-'); errbuf_u(e, (uint64_t)0 - (uint64_t)v); }
    else errbuf_u(e, (uint64_t)v);
}

void errbuf_f(errbuf *e, double v, int decimals) {
    if (v != v) { errbuf_s(e, "nan"); return; }
    if (v < 0) { put(e, '-'); v = -v; }
    if (v > 1e18) { errbuf_s(e, "inf"); return; }
    double scale = 1.0;
    for (int i = 0; i < decimals; i++) scale *= 10.0;
    uint64_t fixed = (uint64_t)(v * scale + 0.5);
    uint64_t ip = fixed / (uint64_t)scale, fp = fixed % (uint64_t)scale;
    errbuf_u(e, ip);
    if (decimals > 0) {
        put(e, '.');
        char tmp[24];
        for (int i = decimals - 1; i >= 0; i--) { tmp[i] = (char)('0' + fp % 10); fp /= 10; }
        for (int i = 0; i < decimals; i++) put(e, tmp[i]);
    }
}
