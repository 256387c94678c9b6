/* shell.c — a line-oriented serial shell. Commands are a table; each gets argv. */
#include "shell.h"
#include "dot.h"
#include "klib.h"
#include "kmodel.h"
#include "lspci.h"
#include "palloc.h"
#include "platform.h"
#include "printf.h"

#define LINE_CAP 256
#define MAX_ARGS 8
#define DEFAULT_TOKENS 32

/* ---- line editing ---- */

static int read_line(char *buf, int cap) {
    static int skip_lf; /* a CR ends the line; ignore the LF of a CRLF pair */
    int len = 0;
    for (;;) {
        int c = plat_getc();
        if (c == '\n' && skip_lf) {
            skip_lf = 0;
            continue;
        }
        skip_lf = 0;
        if (c == '\r' || c == '\n') {
            skip_lf = (c == '\r');
            kputs("\n");
            buf[len] = '\0';
            return len;
        } else if (c == 0x7F || c == 0x08) { /* DEL / backspace */
            if (len > 0) len--, kputs("\b \b");
        } else if (c == 0x15) { /* Ctrl-U: erase the line */
            while (len > 0) len--, kputs("\b \b");
        } else if (c == 0x03) { /* Ctrl-C: abandon the line */
            kputs("^C\n");
            buf[0] = '\0';
            return 0;
        } else if (c == 0x1B) { /* ESC [ ... final byte: arrow keys etc., ignored */
            if (plat_getc() == '[') {
                int d;
                do d = plat_getc(); while (d < 0x40 || d > 0x7E);
            }
        } else if (c >= 0x20 && c < 0x7F) {
            if (len < cap - 1) {
                buf[len++] = (char)c;
                plat_putc((char)c);
            } else {
                plat_putc('\a'); /* line full */
            }
        }
    }
}

/* ---- argument splitting ---- */

int shell_split(char *line, char **argv, int max, const char **err) {
    int argc = 0;
    char *r = line, *w = line;
    for (;;) {
        while (*r == ' ' || *r == '\t') r++;
        if (!*r) return argc;
        if (argc == max) {
            *err = "too many arguments";
            return -1;
        }
        argv[argc++] = w;
        while (*r && *r != ' ' && *r != '\t') {
            if (*r != '"') {
                *w++ = *r++;
                continue;
            }
            r++; /* opening quote */
            while (*r && *r != '"') {
                if (*r == '\\' && (r[1] == '"' || r[1] == '\\')) r++;
                *w++ = *r++;
            }
            if (*r != '"') {
                *err = "unterminated \" (close the quoted prompt with another \")";
                return -1;
            }
            r++; /* closing quote */
        }
        if (*r) r++;
        *w++ = '\0';
    }
}

/* ---- commands ---- */

static void cmd_help(int argc, char **argv);

static void cmd_mem(int argc, char **argv) {
    (void)argc, (void)argv;
    struct mem_region r[32];
    int n = plat_mem_regions(r, 32);
    for (int i = 0; i < n; i++)
        kprintf("  region %d: 0x%010lx-0x%010lx (%lu KiB)\n", i, r[i].base, r[i].base + r[i].len,
                r[i].len / 1024);
    size_t total = palloc_total_pages(), freep = palloc_free_pages();
    kprintf("pages: %lu total, %lu free, %lu used (%lu KiB free, largest free run %lu KiB)\n",
            total, freep, total - freep, freep * (PAGE_SIZE / 1024),
            palloc_largest_free_run() * (PAGE_SIZE / 1024));
    kprintf("kernel image: %p-%p, embedded model %lu bytes at %p\n", (void *)slm_model_start,
            (void *)slm_model_end, (unsigned long)(slm_model_end - slm_model_start),
            (void *)slm_model_start);
}

static void cmd_lspci(int argc, char **argv) {
    (void)argc, (void)argv;
    kernel_lspci(kmodel_ready());
}

static void cmd_poweroff(int argc, char **argv) {
    (void)argc, (void)argv;
    kprintf("Powering off.\n");
    plat_poweroff();
}

static void cmd_clear(int argc, char **argv) {
    (void)argc, (void)argv;
    kputs("\x1b[2J\x1b[H");
}

static void cmd_trap(int argc, char **argv) {
    (void)argc, (void)argv;
    kprintf("Raising a CPU exception on purpose.\n");
    __builtin_trap(); /* ud2 / brk / ebreak: the arch's trap handler prints a register dump */
}

static int parse_uint(const char *s, int *out) {
    int v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000) return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

static void cmd_slm(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "info") == 0 && argc == 2) {
        kmodel_print_info();
        return;
    }
    if (argc >= 2 && strcmp(argv[1], "query") == 0) {
        int ntok = DEFAULT_TOKENS;
        if (argc < 3 || argc > 4 || (argc == 4 && (parse_uint(argv[3], &ntok) || ntok < 1))) {
            kprintf("error: usage: slm query \"<prompt>\" [max_tokens]  (quote the prompt, e.g. "
                    "slm query \"PCI device 8086:10d3 is\")\n");
            return;
        }
        if (!kmodel_ready()) {
            kprintf("error: no model loaded (see the SLM: lines of the boot log)\n");
            return;
        }
        static char out[1024];
        struct kmodel_stats st;
        if (kmodel_complete(argv[2], ntok, out, sizeof out, &st) < 0) {
            kprintf("error: %s\n", out);
            return;
        }
        double secs = (double)st.ns / 1e9;
        kprintf("%s%s\n", argv[2], out);
        kprintf("(%d prompt + %d generated tokens in %.3f s: %.1f tokens/s)\n", st.prompt_tokens,
                st.tokens, secs, secs > 0 ? (st.tokens + st.prompt_tokens) / secs : 0.0);
        return;
    }
    if (argc == 2 && strcmp(argv[1], "check") == 0) {
        const char *bad = "";
        long n = dot_selfcheck(&bad);
        if (n < 0) {
            kprintf("error: slm check: the %s dot products differ from the portable reference\n", bad);
            return;
        }
        const dot_impl *all[4];
        int k = dot_impls(all, 4);
        kprintf("slm check: %ld dot products bit-identical across", n);
        for (int i = 0; i < k; i++) kprintf(" %s", all[i]->name);
        kprintf("; using %s\n", dot_best()->name);
        return;
    }
    kprintf("error: usage: slm info | slm query \"<prompt>\" [max_tokens] | slm check\n");
}

struct command {
    const char *name, *usage, *help;
    void (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"help", "help", "list commands", cmd_help},
    {"mem", "mem", "memory map and page allocator usage", cmd_mem},
    {"lspci", "lspci", "PCI devices, described by the model when one is loaded", cmd_lspci},
    {"slm", "slm info", "embedded model metadata", cmd_slm},
    {"slm", "slm query \"<prompt>\" [n]", "complete a prompt (n tokens max, default 32)", cmd_slm},
    {"slm", "slm check", "the SIMD dot products against the portable C reference", cmd_slm},
    {"clear", "clear", "clear the screen", cmd_clear},
    {"poweroff", "poweroff", "power the machine off", cmd_poweroff},
    {"trap", "trap", "raise a CPU exception (shows the trap handler's register dump)", cmd_trap},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void cmd_help(int argc, char **argv) {
    (void)argc, (void)argv;
    kprintf("commands:\n");
    for (int i = 0; i < NCOMMANDS; i++) kprintf("  %-28s %s\n", commands[i].usage, commands[i].help);
}

static void run_line(char *line) {
    char *argv[MAX_ARGS];
    const char *err = 0;
    int argc = shell_split(line, argv, MAX_ARGS, &err);
    if (argc < 0) {
        kprintf("error: %s\n", err);
        return;
    }
    if (argc == 0) return;
    for (int i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[0], commands[i].name) == 0) {
            commands[i].run(argc, argv);
            return;
        }
    }
    kprintf("error: unknown command '%s' (type 'help' for the list)\n", argv[0]);
}

void shell_run(void) {
    static char line[LINE_CAP];
    for (;;) {
        kputs("auton> ");
        read_line(line, LINE_CAP);
        run_line(line);
    }
}
