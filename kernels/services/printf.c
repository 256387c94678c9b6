/* printf.c — one formatter (fmt_core) writing through a sink; the console sink
 * sends to plat_putc, the buffer sink to memory. */
#include <stdint.h>
#include "printf.h"
#include "platform.h"

struct sink {
    void (*put)(struct sink *, char);
    char *buf;
    size_t cap, len; /* len counts every char, even those past cap */
};

static void console_put(struct sink *s, char c) {
    if (c == '\n') plat_putc('\r');
    plat_putc(c);
    s->len++;
}

static void buf_put(struct sink *s, char c) {
    if (s->len + 1 < s->cap) s->buf[s->len] = c;
    s->len++;
}

struct spec {
    int left, zero, width, prec; /* prec < 0: not given */
};

static void pad(struct sink *s, int n, char c) {
    while (n-- > 0) s->put(s, c);
}

/* Emits digits (already in text form) with sign/prefix, honouring width and flags. */
static void emit(struct sink *s, const struct spec *sp, const char *prefix, const char *digits,
                 int ndigits) {
    int plen = 0;
    while (prefix[plen]) plen++;
    int zeros = 0;
    if (sp->prec > ndigits) zeros = sp->prec - ndigits;
    int total = plen + zeros + ndigits;
    int fill = sp->width > total ? sp->width - total : 0;
    if (!sp->left && !(sp->zero && sp->prec < 0)) pad(s, fill, ' ');
    for (int i = 0; i < plen; i++) s->put(s, prefix[i]);
    if (!sp->left && sp->zero && sp->prec < 0) pad(s, fill, '0');
    pad(s, zeros, '0');
    for (int i = 0; i < ndigits; i++) s->put(s, digits[i]);
    if (sp->left) pad(s, fill, ' ');
}

static int utoa(uint64_t v, unsigned base, int upper, char *out) {
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = dig[v % base];
        v /= base;
    } while (v);
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

static void fmt_float(struct sink *s, const struct spec *sp, double v) {
    char digits[48];
    int n = 0;
    const char *prefix = "";
    if (v != v) { /* NaN */
        struct spec t = *sp;
        t.prec = -1, t.zero = 0;
        emit(s, &t, "", "nan", 3);
        return;
    }
    if (v < 0) prefix = "-", v = -v;
    if (v > 1.8e19) { /* beyond uint64: inf or huge, print as such */
        struct spec t = *sp;
        t.prec = -1, t.zero = 0;
        emit(s, &t, prefix, v == v * 2 ? "inf" : "big", 3);
        return;
    }
    int prec = sp->prec < 0 ? 6 : (sp->prec > 9 ? 9 : sp->prec);
    uint64_t scale = 1;
    for (int i = 0; i < prec; i++) scale *= 10;
    uint64_t ip = (uint64_t)v;
    double frac = (v - (double)ip) * (double)scale + 0.5;
    uint64_t fp = (uint64_t)frac;
    if (fp >= scale) ip++, fp -= scale; /* rounding carried into the integer part */
    n = utoa(ip, 10, 0, digits);
    if (prec > 0) {
        digits[n++] = '.';
        char f[16];
        int fn = utoa(fp, 10, 0, f);
        for (int i = fn; i < prec; i++) digits[n++] = '0';
        for (int i = 0; i < fn; i++) digits[n++] = f[i];
    }
    struct spec t = *sp;
    t.prec = -1;
    emit(s, &t, prefix, digits, n);
}

static void fmt_core(struct sink *s, const char *fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            s->put(s, *fmt);
            continue;
        }
        struct spec sp = {0, 0, 0, -1};
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-') sp.left = 1;
            else if (*fmt == '0') sp.zero = 1;
            else if (*fmt == ' ' || *fmt == '+' || *fmt == '#') continue;
            else break;
        }
        if (*fmt == '*') sp.width = va_arg(ap, int), fmt++;
        else while (*fmt >= '0' && *fmt <= '9') sp.width = sp.width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {
            fmt++;
            sp.prec = 0;
            if (*fmt == '*') sp.prec = va_arg(ap, int), fmt++;
            else while (*fmt >= '0' && *fmt <= '9') sp.prec = sp.prec * 10 + (*fmt++ - '0');
        }
        int lng = 0;
        while (*fmt == 'l' || *fmt == 'z' || *fmt == 'h') {
            if (*fmt != 'h') lng = 1;
            fmt++;
        }
        char digits[24];
        int n;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            n = utoa(u, 10, 0, digits);
            emit(s, &sp, v < 0 ? "-" : "", digits, n);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
            n = utoa(v, base, *fmt == 'X', digits);
            emit(s, &sp, "", digits, n);
            break;
        }
        case 'p': {
            uint64_t v = (uintptr_t)va_arg(ap, void *);
            n = utoa(v, 16, 0, digits);
            emit(s, &sp, "0x", digits, n);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            sp.prec = -1;
            emit(s, &sp, "", &c, 1);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str) str = "(null)";
            int len = 0;
            while (str[len] && (sp.prec < 0 || len < sp.prec)) len++;
            sp.prec = -1;
            sp.zero = 0;
            emit(s, &sp, "", str, len);
            break;
        }
        case 'f':
        case 'g':
        case 'e':
            fmt_float(s, &sp, va_arg(ap, double));
            break;
        case '%':
            s->put(s, '%');
            break;
        case '\0':
            return;
        default: /* unknown conversion: show it rather than guess */
            s->put(s, '%');
            s->put(s, *fmt);
        }
    }
}

int kvprintf(const char *fmt, va_list ap) {
    struct sink s = {console_put, 0, 0, 0};
    fmt_core(&s, fmt, ap);
    return (int)s.len;
}

int kprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}

int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap) {
    struct sink s = {buf_put, buf, n, 0};
    fmt_core(&s, fmt, ap);
    if (n) buf[s.len < n ? s.len : n - 1] = '\0';
    return (int)s.len;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = kvsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

void kputs(const char *s) {
    while (*s) {
        if (*s == '\n') plat_putc('\r');
        plat_putc(*s++);
    }
}
