/* shell.h — the serial shell (`auton> ` prompt): line editing, help, mem,
 * lspci, slm info, slm query "<prompt>", poweroff. */
#ifndef SHELL_H
#define SHELL_H

void shell_run(void) __attribute__((noreturn));

/* Splits a command line into argv in place. Words are separated by spaces;
 * "double quotes" group words, with \" and \\ escapes inside them. Returns argc,
 * or -1 with *err set (e.g. an unterminated quote). Exposed for the host tests. */
int shell_split(char *line, char **argv, int max, const char **err);

#endif
