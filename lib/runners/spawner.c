/* spawner.c — auton's spawner for one plain simple command at a time (shell-pool.ts).
 *
 * Why: the shell pool runs `cat a b > out` in a forked subshell of a bash worker. Forking
 * bash copies its page tables and every page either side touches next faults (copy on
 * write), which cost more CPU than running the program itself. This process posix_spawn()s
 * the program instead: glibc does that with CLONE_VM|CLONE_VFORK, so nothing is copied.
 * Only commands that shell-pool.ts parsed completely (words and plain redirections, no
 * expansion of any kind) come here; everything else runs in bash.
 *
 * Protocol (stdin): per command, 8 ASCII digits (the payload's byte count), then the
 * payload: NUL-terminated fields
 *   cwd, umask (octal), argc, argv..., envc, env..., redirc, then per redirection:
 *   fd, op ('<', '>', '>>' or '>&'), target (a path, or for '>&' the fd to copy)
 * Output (stdout): what the program writes to its stdout and stderr, then
 *   "\1AUTON_EXIT <status>\n"      (status as bash reports it: 128+n for signal n)
 * The program's stdin is /dev/null, its stdout and stderr are this process's stdout, then
 * the redirections apply left to right, as bash applies them. Messages for failures before
 * the program runs read as bash's would (the log reads the same whichever ran it).
 * Status 255 with "\1AUTON_EXIT 255 again\n" means: not run at all, run it with bash
 * (a file without a #! line, which bash would run as a script).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void put(const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) exit(1); /* auton is gone */
    s += w;
    n -= (size_t)w;
  }
}

static void say(const char *fmt, ...) {
  char buf[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) put(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void done(int status, const char *extra) {
  char buf[64];
  int n = snprintf(buf, sizeof buf, "\1AUTON_EXIT %d%s\n", status, extra);
  put(buf, (size_t)n);
}

static int read_full(char *buf, size_t n) {
  while (n > 0) {
    ssize_t r = read(0, buf, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    buf += r;
    n -= (size_t)r;
  }
  return 0;
}

/* The next NUL-terminated field of the payload, or NULL past its end. */
static char *field(char **at, char *end) {
  if (*at >= end) return NULL;
  char *f = *at;
  char *z = memchr(f, 0, (size_t)(end - f));
  if (!z) return NULL;
  *at = z + 1;
  return f;
}

/* The program bash would run for `name`, looked up on the command's own PATH. */
static int resolve(const char *name, const char *path, char *out, size_t cap) {
  if (strchr(name, '/')) {
    snprintf(out, cap, "%s", name);
    return 0;
  }
  if (!path) path = "/usr/local/bin:/usr/bin:/bin"; /* bash's default when PATH is unset */
  for (const char *p = path;; p++) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    /* an empty PATH entry means the current directory */
    int n = len ? snprintf(out, cap, "%.*s/%s", (int)len, p, name) : snprintf(out, cap, "%s", name);
    struct stat st;
    if (n > 0 && (size_t)n < cap && stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
    if (!colon) break;
    p = colon;
  }
  return -1;
}

static void malformed(void) {
  say("auton spawner: malformed request\n");
  exit(2);
}

static void run(char *payload, size_t size) {
  char *at = payload, *end = payload + size;
  char *cwd = field(&at, end), *mask = field(&at, end), *argc_s = field(&at, end);
  if (!cwd || !mask || !argc_s) malformed();
  int argc = atoi(argc_s);
  if (argc < 1 || argc > 100000) malformed();
  char **argv = calloc((size_t)argc + 1, sizeof *argv);
  for (int i = 0; i < argc; i++) if (!(argv[i] = field(&at, end))) malformed();
  char *envc_s = field(&at, end);
  if (!envc_s) malformed();
  int envc = atoi(envc_s);
  char **envp = calloc((size_t)envc + 1, sizeof *envp);
  const char *path = NULL;
  for (int i = 0; i < envc; i++) {
    if (!(envp[i] = field(&at, end))) malformed();
    if (strncmp(envp[i], "PATH=", 5) == 0) path = envp[i] + 5;
  }
  char *redirc_s = field(&at, end);
  if (!redirc_s) malformed();
  int redirc = atoi(redirc_s);

  if (chdir(cwd) != 0) {
    say("bash: line 1: cd: %s: %s\n", cwd, strerror(errno));
    done(1, "");
    goto out;
  }
  umask((mode_t)strtol(mask, NULL, 8));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  int opened[64], nopened = 0;
  for (int i = 0; i < redirc; i++) {
    char *fd_s = field(&at, end), *op = field(&at, end), *target = field(&at, end);
    if (!fd_s || !op || !target || nopened >= 64) malformed();
    int fd = atoi(fd_s);
    if (strcmp(op, ">&") == 0) {
      posix_spawn_file_actions_adddup2(&fa, atoi(target), fd);
      continue;
    }
    int flags = strcmp(op, "<") == 0 ? O_RDONLY : strcmp(op, ">>") == 0 ? O_WRONLY | O_CREAT | O_APPEND : O_WRONLY | O_CREAT | O_TRUNC;
    /* opened here, not in the child: a failure names its file, as bash's message does */
    int f = open(target, flags | O_CLOEXEC, 0666);
    if (f < 0) {
      say("bash: line 1: %s: %s\n", target, strerror(errno));
      done(1, "");
      goto close_fa;
    }
    opened[nopened++] = f;
    posix_spawn_file_actions_adddup2(&fa, f, fd);
  }

  char prog[4096];
  struct stat st;
  if (resolve(argv[0], path, prog, sizeof prog) != 0) {
    say("bash: line 1: %s: command not found\n", argv[0]);
    done(127, "");
    goto close_fa;
  }
  if (stat(prog, &st) == 0 && S_ISDIR(st.st_mode)) {
    say("bash: line 1: %s: %s\n", prog, strerror(EISDIR));
    done(126, "");
    goto close_fa;
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int err = posix_spawn(&pid, prog, &fa, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  if (err == ENOEXEC) {
    done(255, " again");
  } else if (err != 0) {
    say("bash: line 1: %s: %s\n", prog, strerror(err));
    done(err == ENOENT ? 127 : 126, "");
  } else {
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
    /* bash reports a death by signal, except by the ones a user sends to stop a command */
    if (WIFSIGNALED(ws) && WTERMSIG(ws) != SIGINT && WTERMSIG(ws) != SIGPIPE)
      say("%s%s\n", strsignal(WTERMSIG(ws)), WCOREDUMP(ws) ? " (core dumped)" : "");
    done(WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws), "");
  }
close_fa:
  for (int i = 0; i < nopened; i++) close(opened[i]);
  posix_spawn_file_actions_destroy(&fa);
out:
  free(argv);
  free(envp);
}

int main(void) {
  signal(SIGPIPE, SIG_DFL);
  char head[9] = {0};
  while (read_full(head, 8) == 0) {
    size_t size = (size_t)strtoul(head, NULL, 10);
    char *payload = malloc(size ? size : 1);
    if (!payload || read_full(payload, size) != 0) return 1;
    run(payload, size);
    free(payload);
  }
  return 0;
}
