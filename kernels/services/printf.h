/* printf.h — formatted output to the serial console and to buffers.
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %% with length modifiers l, ll, z and
 * flags '-', '0', width and precision; %f with precision (default 6), no
 * exponent form ("f-lite": enough for timings and logits). '\n' is sent to the
 * console as "\r\n". */
#ifndef PRINTF_H
#define PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);
/* Always NUL-terminates when n > 0; returns the length the full output would have. */
int ksnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
void kputs(const char *s); /* no newline added */

#endif
