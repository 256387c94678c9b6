#include "json.h"
#include <stdio.h>
#include <string.h>

static const char *skip_ws(const char *q) {
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
    return q;
}

const char *json_find(const char *json, const char *key) {
    char pat[160];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    for (const char *p = strstr(json, pat); p; p = strstr(p + 1, pat)) {
        const char *q = skip_ws(p + strlen(pat));
        if (*q == ':') return skip_ws(q + 1);
    }
    return NULL;
}

long json_string(const char *p, char *out, size_t cap) {
    if (*p != '"') return -1;
    size_t n = 0;
    for (p++; *p && *p != '"'; p++) {
        char ch = *p;
        if (ch == '\\') {
            p++;
            switch (*p) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'u': ch = '\\'; p--; break;   // keep \uXXXX as is
            default: ch = *p; break;
            }
        }
        if (n + 1 >= cap) return -1;
        out[n++] = ch;
    }
    if (*p != '"') return -1;
    out[n] = 0;
    return (long)n;
}

long json_escape(const char *s, char *out, size_t cap) {
    size_t n = 0;
    for (; *s; s++) {
        char buf[8];
        const char *e = buf;
        if (*s == '"') e = "\\\"";
        else if (*s == '\\') e = "\\\\";
        else if (*s == '\n') e = "\\n";
        else if (*s == '\t') e = "\\t";
        else if (*s == '\r') e = "\\r";
        else if ((unsigned char)*s < 0x20) snprintf(buf, sizeof buf, "\\u%04x", *s);
        else { buf[0] = *s; buf[1] = 0; }
        size_t l = strlen(e);
        if (n + l + 1 > cap) return -1;
        memcpy(out + n, e, l);
        n += l;
    }
    out[n] = 0;
    return (long)n;
}
