/* kbind-guest: the guest side of kbind's QEMU conformance harness (static, runs as PID 1's child).
 *
 *   kbind-guest serve <tty>   command loop on a serial port (raw mode, no echo); "-" serves on
 *                             stdin/stdout (the host-side unit test runs it that way)
 *   kbind-guest uevents       a udev-like listener: NETLINK_KOBJECT_UEVENT, and for ACTION=add with a
 *                             MODALIAS it runs `modprobe -b $MODALIAS` (systemd's 80-drivers.rules:
 *                             ENV{MODALIAS}=="?*", RUN{builtin}+="kmod load"), serially, logging each
 *                             event and each modprobe to /run/uevents.log, and the last handled SEQNUM
 *                             to /run/uevent.done.
 *
 * Protocol (one request per line, fields separated by one space, arguments base64):
 *   <id> R <path>            read(2) the whole file        -> OK <b64 data>      | <ERRNO>
 *   <id> W <path> <data>     open, one write(2), close     -> OK <count>         | <ERRNO>
 *   <id> L <path>            readlink(2)                   -> OK <b64 target>    | <ERRNO>
 *   <id> D <dir>             readdir, sorted               -> OK <b64 names\n>   | <ERRNO>
 *   <id> E <path>            lstat(2)                      -> OK 1 | OK 0
 *   <id> U <module>          delete_module(name, O_NONBLOCK) -> OK 0             | <ERRNO>
 *   <id> X <cmd>             /bin/sh -c cmd, stdout+stderr -> OK <rc> <b64 out>
 *   <id> S                   wait until the uevent listener handled every uevent -> OK <seqnum>
 * Each answer is one line "@@<id> <answer>@@" so stray bytes on the line can be told apart.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
    E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS)
    E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY)
    E(ELOOP) E(ENODATA) E(ETIMEDOUT) E(EOPNOTSUPP) E(EALREADY) E(EINPROGRESS) E(ENOKEY)
    E(EKEYREJECTED) E(EOVERFLOW) E(EBADMSG)
#undef E
    case 517: return "EPROBE_DEFER";
    default: {
      static char buf[32];
      snprintf(buf, sizeof buf, "E%d", e);
      return buf;
    }
  }
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64out(FILE *f, const unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];
    fputc(B64[v >> 18], f); fputc(B64[(v >> 12) & 63], f); fputc(B64[(v >> 6) & 63], f); fputc(B64[v & 63], f);
  }
  if (n - i == 1) {
    unsigned v = p[i] << 16;
    fputc(B64[v >> 18], f); fputc(B64[(v >> 12) & 63], f); fputs("==", f);
  } else if (n - i == 2) {
    unsigned v = p[i] << 16 | p[i + 1] << 8;
    fputc(B64[v >> 18], f); fputc(B64[(v >> 12) & 63], f); fputc(B64[(v >> 6) & 63], f); fputc('=', f);
  }
  if (n == 0) fputc('-', f); /* an empty payload is "-" so the field is never empty */
}

static size_t b64in(const char *s, unsigned char *out) {
  size_t n = 0;
  unsigned v = 0;
  int bits = 0;
  if (strcmp(s, "-") == 0) return 0;
  for (; *s; s++) {
    const char *q = strchr(B64, *s);
    if (*s == '=' || !q) continue;
    v = v << 6 | (unsigned)(q - B64);
    bits += 6;
    if (bits >= 8) { bits -= 8; out[n++] = (unsigned char)(v >> bits); }
  }
  return n;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

#define BIG (1 << 20)
static unsigned char buf[BIG], arg1[BIG], arg2[BIG];

static void run_cmd(FILE *o, const char *cmd) {
  int pfd[2];
  pid_t pid;
  size_t n = 0;
  ssize_t r;
  int st = 0;
  if (pipe(pfd) < 0) { fprintf(o, "%s", errname(errno)); return; }
  pid = fork();
  if (pid == 0) {
    dup2(pfd[1], 1); dup2(pfd[1], 2); close(pfd[0]); close(pfd[1]);
    int nul = open("/dev/null", O_RDONLY); if (nul >= 0) { dup2(nul, 0); close(nul); }
    execl("/bin/sh", "sh", "-c", cmd, (char *)0);
    _exit(127);
  }
  close(pfd[1]);
  while ((r = read(pfd[0], buf + n, BIG - 1 - n)) > 0) n += (size_t)r;
  close(pfd[0]);
  waitpid(pid, &st, 0);
  fprintf(o, "OK %d ", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  b64out(o, buf, n);
}

static long read_long(const char *path) {
  char t[64] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t r = read(fd, t, sizeof t - 1);
  close(fd);
  return r > 0 ? strtol(t, 0, 10) : -1;
}

static void settle(FILE *o) {
  /* Wait until the listener has handled every uevent the kernel sent, then until no new one comes
     for 300 ms (a module loaded by a handled event may add devices). At most 60 s. */
  struct timespec ts = {0, 20 * 1000 * 1000};
  int quiet = 0;
  long seq = -1;
  for (int i = 0; i < 3000 && quiet < 15; i++) {
    long k = read_long("/sys/kernel/uevent_seqnum");
    long d = read_long("/run/uevent.done");
    if (d >= k) { quiet = (k == seq) ? quiet + 1 : 0; seq = k; } else quiet = 0;
    nanosleep(&ts, 0);
  }
  fprintf(o, quiet >= 15 ? "OK %ld" : "ETIMEDOUT", seq);
}

static int serve(const char *tty) {
  int fd = strcmp(tty, "-") == 0 ? 0 : open(tty, O_RDWR | O_NOCTTY);
  if (fd < 0) { perror(tty); return 1; }
  struct termios t;
  if (fd != 0 && tcgetattr(fd, &t) == 0) { cfmakeraw(&t); cfsetspeed(&t, B115200); tcsetattr(fd, TCSANOW, &t); }
  FILE *in = fdopen(fd, "r"), *o = fdopen(fd == 0 ? dup(1) : dup(fd), "w");
  static char line[3 * BIG];
  fputs("\n@@READY@@\n", o);
  fflush(o);
  while (fgets(line, sizeof line, in)) {
    char *save = 0, *id = strtok_r(line, " \r\n", &save), *op = strtok_r(0, " \r\n", &save);
    char *a1 = strtok_r(0, " \r\n", &save), *a2 = strtok_r(0, " \r\n", &save);
    size_t n1 = 0, n2 = 0;
    if (!id || !op) continue;
    if (a1) { n1 = b64in(a1, arg1); }
    arg1[n1] = 0;
    if (a2) { n2 = b64in(a2, arg2); }
    fprintf(o, "\n@@%s ", id);
    switch (op[0]) {
      case 'R': {
        int f = open((char *)arg1, O_RDONLY);
        if (f < 0) { fputs(errname(errno), o); break; }
        size_t n = 0; ssize_t r = 0;
        while (n < BIG && (r = read(f, buf + n, BIG - n)) > 0) n += (size_t)r;
        if (r < 0) fputs(errname(errno), o); else { fputs("OK ", o); b64out(o, buf, n); }
        close(f);
        break;
      }
      case 'W': {
        int f = open((char *)arg1, O_WRONLY);
        if (f < 0) { fputs(errname(errno), o); break; }
        ssize_t r = write(f, arg2, n2);
        if (r < 0) fputs(errname(errno), o); else fprintf(o, "OK %zd", r);
        close(f);
        break;
      }
      case 'L': {
        ssize_t r = readlink((char *)arg1, (char *)buf, BIG - 1);
        if (r < 0) fputs(errname(errno), o); else { fputs("OK ", o); b64out(o, buf, (size_t)r); }
        break;
      }
      case 'D': {
        DIR *d = opendir((char *)arg1);
        if (!d) { fputs(errname(errno), o); break; }
        static char *names[65536];
        size_t k = 0, n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && k < 65536)
          if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[k++] = strdup(e->d_name);
        closedir(d);
        qsort(names, k, sizeof names[0], cmpstr);
        for (size_t i = 0; i < k; i++) {
          size_t l = strlen(names[i]);
          if (n + l + 1 < BIG) { memcpy(buf + n, names[i], l); n += l; buf[n++] = '\n'; }
          free(names[i]);
        }
        fputs("OK ", o); b64out(o, buf, n);
        break;
      }
      case 'E': {
        struct stat st;
        fprintf(o, "OK %d", lstat((char *)arg1, &st) == 0);
        break;
      }
      case 'U': {
        long r = syscall(SYS_delete_module, (char *)arg1, O_NONBLOCK);
        if (r < 0) fputs(errname(errno), o); else fputs("OK 0", o);
        break;
      }
      case 'X': run_cmd(o, (char *)arg1); break;
      case 'S': settle(o); break;
      default: fputs("EBADMSG", o);
    }
    fputs("@@\n", o);
    fflush(o);
  }
  return 0;
}

static void logline(const char *s) {
  int f = open("/run/uevents.log", O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (f >= 0) { if (write(f, s, strlen(s)) < 0) {} close(f); }
}

static int uevents(void) {
  int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  if (s < 0) { perror("netlink"); return 1; }
  int sz = 8 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
  struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = 1};
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
  /* Tell the parent we listen, so coldplug triggers are not lost. */
  int rf = open("/run/uevent.done", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (rf >= 0) { if (write(rf, "0\n", 2) < 0) {} close(rf); }
  static char msg[16384];
  for (;;) {
    ssize_t n = recv(s, msg, sizeof msg - 1, 0);
    if (n <= 0) continue;
    msg[n] = 0;
    const char *action = 0, *devpath = 0, *modalias = 0, *seq = 0, *subsystem = 0;
    for (char *p = msg + strlen(msg) + 1; p < msg + n; p += strlen(p) + 1) {
      if (!strncmp(p, "ACTION=", 7)) action = p + 7;
      else if (!strncmp(p, "DEVPATH=", 8)) devpath = p + 8;
      else if (!strncmp(p, "MODALIAS=", 9)) modalias = p + 9;
      else if (!strncmp(p, "SEQNUM=", 7)) seq = p + 7;
      else if (!strncmp(p, "SUBSYSTEM=", 10)) subsystem = p + 10;
    }
    /* "uevent SEQNUM ACTION SUBSYSTEM DEVPATH KEY=VALUE..." with every other variable in the
       kernel's order. */
    char l[16384];
    int len = snprintf(l, sizeof l, "uevent %s %s %s %s", seq ? seq : "-", action ? action : "-",
                       subsystem ? subsystem : "-", devpath ? devpath : "-");
    for (char *p = msg + strlen(msg) + 1; p < msg + n && len < (int)sizeof l - 2; p += strlen(p) + 1) {
      if (!strncmp(p, "ACTION=", 7) || !strncmp(p, "DEVPATH=", 8) || !strncmp(p, "SUBSYSTEM=", 10) ||
          !strncmp(p, "SEQNUM=", 7))
        continue;
      len += snprintf(l + len, sizeof l - (size_t)len, " %s", p);
    }
    if (len > (int)sizeof l - 2) len = (int)sizeof l - 2;
    l[len++] = '\n';
    l[len] = 0;
    logline(l);
    if (action && modalias && !strcmp(action, "add")) {
      pid_t pid = fork();
      if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) { dup2(nul, 0); dup2(nul, 1); dup2(nul, 2); }
        execl("/sbin/modprobe", "modprobe", "-b", modalias, (char *)0);
        _exit(127);
      }
      int st = 0;
      waitpid(pid, &st, 0);
      snprintf(l, sizeof l, "modprobe -b %s = %d\n", modalias, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
      logline(l);
    }
    if (seq) {
      char t[32];
      int f = open("/run/uevent.done.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
      snprintf(t, sizeof t, "%s\n", seq);
      if (f >= 0) { if (write(f, t, strlen(t)) < 0) {} close(f); rename("/run/uevent.done.tmp", "/run/uevent.done"); }
    }
  }
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "serve")) return serve(argv[2]);
  if (argc >= 2 && !strcmp(argv[1], "uevents")) return uevents();
  fprintf(stderr, "usage: kbind-guest serve <tty> | uevents\n");
  return 2;
}
