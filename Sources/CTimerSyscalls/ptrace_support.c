// Syscall injection for `timer-criu dump --values` (see CTimerPtrace.h and
// docs/dump-values.md). Everything here is async-signal-safe: it runs in a
// forked worker of a multi-threaded process. No malloc, no stdio.
#define _GNU_SOURCE
#include "CTimerPtrace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <sys/ptrace.h>
#include <sys/user.h>

#define TC_NR_TIMER_GETTIME 224
#define TC_NR_TIMER_GETOVERRUN 225
#define TC_RED_ZONE 128         // System V x86-64 ABI: below rsp, still the function's
#define TC_SLOT_SIZE 32         // struct itimerspec
#define TC_MAX_SLOTS 64         // scratch of at most 2 KiB below the red zone
#define TC_MAX_EXEC_VMAS 32
#define TC_USER_CS_64 0x33      // __USER_CS: the leader is running 64-bit code

struct tc_vma {
    uint64_t start, end;
};

struct tc_maps {
    struct tc_vma vdso;              // start == 0: none
    struct tc_vma exec[TC_MAX_EXEC_VMAS];
    int exec_count;
    struct tc_vma stack;             // the mapping holding rsp - 1
};

static int tc_fail(struct tc_inject_report *r, int stage, int err, int64_t detail) {
    r->stage = stage;
    r->err = err;
    r->detail = detail;
    return stage;
}

static int64_t tc_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long tc_pt(long request, pid_t pid, void *addr, void *data) {
    return syscall(SYS_ptrace, request, pid, addr, data);
}

static int tc_hexdigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// One line of /proc/PID/maps: "start-end perms offset dev inode   path".
static void tc_maps_line(const char *line, size_t len, uint64_t rsp, struct tc_maps *m) {
    uint64_t start = 0, end = 0;
    size_t i = 0;
    int d;
    while (i < len && (d = tc_hexdigit(line[i])) >= 0) { start = start * 16 + (uint64_t)d; i++; }
    if (i >= len || line[i] != '-') return;
    i++;
    while (i < len && (d = tc_hexdigit(line[i])) >= 0) { end = end * 16 + (uint64_t)d; i++; }
    if (i + 4 >= len || line[i] != ' ') return;
    const char *perms = line + i + 1;
    if (rsp - 1 >= start && rsp - 1 < end) { m->stack.start = start; m->stack.end = end; }
    if (perms[0] != 'r' || perms[2] != 'x') return;
    // The vsyscall page is above the user address space and not readable through /proc/PID/mem.
    if (start >= 0x800000000000ULL) return;
    if (len >= 6 && memcmp(line + len - 6, "[vdso]", 6) == 0) {
        m->vdso.start = start;
        m->vdso.end = end;
    } else if (m->exec_count < TC_MAX_EXEC_VMAS) {
        m->exec[m->exec_count].start = start;
        m->exec[m->exec_count].end = end;
        m->exec_count++;
    }
}

static int tc_read_maps(pid_t pid, uint64_t rsp, struct tc_maps *m, struct tc_inject_report *r) {
    char path[64], buf[4096], line[512];
    size_t line_len = 0;
    memset(m, 0, sizeof *m);
    // snprintf is not async-signal-safe: build "/proc/PID/maps" by hand.
    char digits[16];
    int n = 0;
    unsigned value = (unsigned)pid;
    do { digits[n++] = (char)('0' + value % 10); value /= 10; } while (value);
    size_t p = 0;
    memcpy(path, "/proc/", 6); p = 6;
    while (n) path[p++] = digits[--n];
    memcpy(path + p, "/maps", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tc_fail(r, TC_INJECT_MEMORY, errno, 0);
    for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return tc_fail(r, TC_INJECT_MEMORY, e, 0);
        }
        if (got == 0) break;
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] == '\n') {
                tc_maps_line(line, line_len, rsp, m);
                line_len = 0;
            } else if (line_len < sizeof line) {
                line[line_len++] = buf[i];
            }
        }
    }
    if (line_len) tc_maps_line(line, line_len, rsp, m);
    close(fd);
    return 0;
}

static int tc_open_mem(pid_t pid) {
    char path[64];
    char digits[16];
    int n = 0;
    unsigned value = (unsigned)pid;
    do { digits[n++] = (char)('0' + value % 10); value /= 10; } while (value);
    size_t p = 6;
    memcpy(path, "/proc/", 6);
    while (n) path[p++] = digits[--n];
    memcpy(path + p, "/mem", 5);
    return open(path, O_RDWR | O_CLOEXEC);
}

// First "0f 05" (syscall) in [start, end), or 0.
static uint64_t tc_find_syscall(int mem, uint64_t start, uint64_t end, uint64_t limit) {
    unsigned char buf[4096];
    if (end - start > limit) end = start + limit;
    for (uint64_t at = start; at < end;) {
        size_t want = sizeof buf;
        if (end - at < want) want = (size_t)(end - at);
        ssize_t got = pread(mem, buf, want, (off_t)at);
        if (got <= 1) return 0;
        for (ssize_t i = 0; i + 1 < got; i++)
            if (buf[i] == 0x0f && buf[i + 1] == 0x05) return at + (uint64_t)i;
        at += (uint64_t)got - 1;  // overlap one byte so a pair across chunks is seen
    }
    return 0;
}

static int tc_wait_stop(pid_t pid, int *status, struct tc_inject_report *r) {
    for (;;) {
        pid_t w = waitpid(pid, status, __WALL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return tc_fail(r, TC_INJECT_WAIT, errno, 0);
        }
        if (WIFEXITED(*status) || WIFSIGNALED(*status))
            return tc_fail(r, TC_INJECT_EXITED, *status, 0);
        if (WIFSTOPPED(*status)) return 0;
    }
}

// PTRACE_INTERRUPT, then wait for the PTRACE_EVENT_STOP. A signal that reaches
// the tracee first (any signal is reported to a tracer) is passed through
// unchanged and the interrupt asked again.
static int tc_stop(pid_t pid, struct tc_inject_report *r) {
    if (tc_pt(PTRACE_INTERRUPT, pid, 0, 0) != 0) return tc_fail(r, TC_INJECT_INTERRUPT, errno, 0);
    for (;;) {
        int st, rc = tc_wait_stop(pid, &st, r);
        if (rc) return rc;
        if (((unsigned)st >> 16) == PTRACE_EVENT_STOP) return 0;
        int sig = WSTOPSIG(st);
        if (tc_pt(PTRACE_CONT, pid, 0, (void *)(long)sig) != 0)
            return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_CONT);
        if (tc_pt(PTRACE_INTERRUPT, pid, 0, 0) != 0) return tc_fail(r, TC_INJECT_INTERRUPT, errno, 0);
    }
}

struct tc_session {
    pid_t pid;
    int mem;
    struct user_regs_struct saved;
    uint64_t saved_mask;
    int mask_changed;
    int regs_changed;
    int64_t window_start;
    int held[8];            // SIGSTOPs (unblockable) that arrived in the window, re-sent after detach
    int held_count;
};

// Sets regs, lets the tracee execute the syscall at regs->rip and stops it at
// the syscall-exit-stop (PTRACE_O_TRACESYSGOOD marks syscall stops with 0x80).
// Syscall stops are safe places to be killed in: a tracer's death there sends
// the tracee no signal (SIGTRAP|0x80 is not a valid signal number).
static int tc_run_syscall(struct tc_session *s, struct user_regs_struct *regs, long nr, long *result,
                          struct tc_inject_report *r) {
    if (!s->regs_changed) s->window_start = tc_now_ns();
    if (tc_pt(PTRACE_SETREGS, s->pid, 0, regs) != 0) return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SETREGS);
    s->regs_changed = 1;
    if (!s->mask_changed) {
        // Block every signal while the tracee runs our code, as CRIU's compel
        // does: they stay pending and arrive after the detach, instead of
        // running a handler on top of injected registers.
        uint64_t all = ~0ULL;
        if (tc_pt(PTRACE_SETSIGMASK, s->pid, (void *)sizeof all, &all) != 0)
            return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SETSIGMASK);
        s->mask_changed = 1;
    }
    int entered = 0;
    if (tc_pt(PTRACE_SYSCALL, s->pid, 0, 0) != 0) return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SYSCALL);
    for (;;) {
        int st, rc = tc_wait_stop(s->pid, &st, r);
        if (rc) return rc;
        int sig = WSTOPSIG(st);
        unsigned event = (unsigned)st >> 16;
        if (sig == (SIGTRAP | 0x80)) {
            if (!entered) {
                entered = 1;
            } else {
                struct user_regs_struct after;
                if (tc_pt(PTRACE_GETREGS, s->pid, 0, &after) != 0)
                    return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_GETREGS);
                if ((long)after.orig_rax != nr) return tc_fail(r, TC_INJECT_PTRACE, EPROTO, (int64_t)after.orig_rax);
                *result = (long)after.rax;
                return 0;
            }
        } else {
            r->extra_stops++;
            if (event == 0) {
                // A signal-delivery-stop: only unblockable or synchronous signals get here.
                if (sig == SIGSTOP) {
                    if (s->held_count < 8) s->held[s->held_count++] = sig;
                } else {
                    // A fault caused by the injected code itself: give up, put everything back.
                    return tc_fail(r, TC_INJECT_PTRACE, EFAULT, sig);
                }
            }
            // Group-stop or other event stops: just go on; the detach re-enters a group stop.
        }
        if (tc_pt(PTRACE_SYSCALL, s->pid, 0, 0) != 0) return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SYSCALL);
    }
}

// Puts back the signal mask and, LAST, the registers: from that moment on the
// tracee is whole again and the tracer may die at any time (detach on tracer
// exit, and the kernel's own syscall-restart logic runs on the original
// registers because ptrace_unlink sets TIF_SIGPENDING).
static int tc_restore(struct tc_session *s, struct tc_inject_report *r) {
    int rc = 0;
    if (s->mask_changed) {
        if (tc_pt(PTRACE_SETSIGMASK, s->pid, (void *)sizeof s->saved_mask, &s->saved_mask) != 0)
            rc = tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SETSIGMASK);
        else
            s->mask_changed = 0;
    }
    if (s->regs_changed) {
        if (tc_pt(PTRACE_SETREGS, s->pid, 0, &s->saved) != 0)
            rc = tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SETREGS);
        else
            s->regs_changed = 0;
        r->window_nanoseconds = tc_now_ns() - s->window_start;
    }
    return rc;
}

static int tc_inject(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                     struct tc_inject_report *r, unsigned alarm_seconds) {
    struct tc_session s;
    memset(&s, 0, sizeof s);
    memset(r, 0, sizeof *r);
    s.pid = pid;
    s.mem = -1;
    for (int32_t i = 0; i < count; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].id = ids[i];
    }
    // No PTRACE_O_EXITKILL: if we die, the kernel detaches and the target runs on.
    if (tc_pt(PTRACE_SEIZE, pid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD) != 0)
        return tc_fail(r, TC_INJECT_SEIZE, errno, 0);
    if (alarm_seconds) alarm(alarm_seconds);
    int rc = tc_stop(pid, r);
    if (alarm_seconds) alarm(0);
    if (rc) return rc;  // not stopped: nothing to put back; the target has exited, or we exit and the kernel detaches

    unsigned char saved_scratch[TC_MAX_SLOTS * TC_SLOT_SIZE];
    struct tc_maps maps;
    uint64_t gadget = 0, scratch = 0;
    int slots = 0, scratch_saved = 0;

    if (tc_pt(PTRACE_GETREGS, pid, 0, &s.saved) != 0) { rc = tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_GETREGS); goto detach; }
    if (s.saved.cs != TC_USER_CS_64) { rc = tc_fail(r, TC_INJECT_NOT_X86_64, 0, (int64_t)s.saved.cs); goto detach; }
    if (tc_pt(PTRACE_GETSIGMASK, pid, (void *)sizeof s.saved_mask, &s.saved_mask) != 0) {
        rc = tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_GETSIGMASK);
        goto detach;
    }
    if ((rc = tc_read_maps(pid, s.saved.rsp, &maps, r))) goto detach;
    s.mem = tc_open_mem(pid);
    if (s.mem < 0) { rc = tc_fail(r, TC_INJECT_MEMORY, errno, 0); goto detach; }
    // The syscall instruction: the vdso has a few (its fallback paths); else any r-x mapping.
    if (maps.vdso.start) gadget = tc_find_syscall(s.mem, maps.vdso.start, maps.vdso.end, 1 << 20);
    for (int i = 0; !gadget && i < maps.exec_count; i++)
        gadget = tc_find_syscall(s.mem, maps.exec[i].start, maps.exec[i].end, 1 << 20);
    if (!gadget) { rc = tc_fail(r, TC_INJECT_NO_SYSCALL_INSN, 0, 0); goto detach; }
    r->syscall_address = gadget;
    // Scratch for the struct itimerspec results: below the red zone, inside the
    // mapping that holds the stack pointer, 64-byte aligned.
    slots = count < TC_MAX_SLOTS ? count : TC_MAX_SLOTS;
    for (; slots > 0; slots--) {
        scratch = (s.saved.rsp - TC_RED_ZONE - (uint64_t)slots * TC_SLOT_SIZE) & ~63ULL;
        if (maps.stack.start && scratch >= maps.stack.start && scratch < s.saved.rsp) break;
    }
    if (slots == 0) { rc = tc_fail(r, TC_INJECT_NO_SCRATCH, 0, (int64_t)s.saved.rsp); goto detach; }
    r->scratch_address = scratch;
    size_t scratch_len = (size_t)slots * TC_SLOT_SIZE;
    if (pread(s.mem, saved_scratch, scratch_len, (off_t)scratch) != (ssize_t)scratch_len) {
        rc = tc_fail(r, TC_INJECT_MEMORY, errno, (int64_t)scratch);
        goto detach;
    }
    scratch_saved = 1;

    // --- The window: from here until tc_restore the registers are ours. ---
    int32_t done = 0;
    unsigned char results[TC_MAX_SLOTS * TC_SLOT_SIZE];
    int32_t batch_start = 0, batch_len = 0;
    while (done < count) {
        batch_start = done;
        batch_len = count - done < slots ? count - done : slots;
        for (int32_t k = 0; k < batch_len; k++) {
            int32_t i = batch_start + k;
            struct user_regs_struct regs = s.saved;
            long result = 0;
            regs.orig_rax = (unsigned long long)-1;  // no syscall-restart logic on our registers
            regs.rip = gadget;
            regs.rax = TC_NR_TIMER_GETTIME;
            regs.rdi = (unsigned long long)(long)ids[i];
            regs.rsi = scratch + (uint64_t)k * TC_SLOT_SIZE;
            if ((rc = tc_run_syscall(&s, &regs, TC_NR_TIMER_GETTIME, &result, r))) goto restore;
            if (result < 0) out[i].gettime_errno = (int32_t)-result;
            regs.rip = gadget;
            regs.rax = TC_NR_TIMER_GETOVERRUN;
            if ((rc = tc_run_syscall(&s, &regs, TC_NR_TIMER_GETOVERRUN, &result, r))) goto restore;
            if (result < 0) out[i].getoverrun_errno = (int32_t)-result;
            else out[i].overrun = (int32_t)result;
        }
        done += batch_len;
        if (done < count) {
            // The slots are reused: read this batch now (the last one is read after the window).
            if (pread(s.mem, results, (size_t)batch_len * TC_SLOT_SIZE, (off_t)scratch) != (ssize_t)batch_len * TC_SLOT_SIZE) {
                rc = tc_fail(r, TC_INJECT_MEMORY, errno, (int64_t)scratch);
                goto restore;
            }
            for (int32_t k = 0; k < batch_len; k++) {
                struct tc_timer_values *v = &out[batch_start + k];
                int64_t words[4];
                memcpy(words, results + k * TC_SLOT_SIZE, sizeof words);
                if (!v->gettime_errno) {
                    v->interval_sec = words[0]; v->interval_nsec = words[1];
                    v->value_sec = words[2]; v->value_nsec = words[3];
                }
            }
        }
    }

restore:;
    int restore_rc = tc_restore(&s, r);
    // --- The window is closed. ---
    if (rc == TC_INJECT_EXITED) goto out;
    if (!rc) rc = restore_rc;
    if (!rc && batch_len > 0) {
        if (pread(s.mem, results, (size_t)batch_len * TC_SLOT_SIZE, (off_t)scratch) != (ssize_t)batch_len * TC_SLOT_SIZE) {
            rc = tc_fail(r, TC_INJECT_MEMORY, errno, (int64_t)scratch);
        } else {
            for (int32_t k = 0; k < batch_len; k++) {
                struct tc_timer_values *v = &out[batch_start + k];
                int64_t words[4];
                memcpy(words, results + k * TC_SLOT_SIZE, sizeof words);
                if (!v->gettime_errno) {
                    v->interval_sec = words[0]; v->interval_nsec = words[1];
                    v->value_sec = words[2]; v->value_nsec = words[3];
                }
            }
        }
    }
detach:
    // The bytes below the red zone are dead by the ABI, but put them back anyway.
    if (scratch_saved) {
        if (pwrite(s.mem, saved_scratch, (size_t)slots * TC_SLOT_SIZE, (off_t)scratch) != (ssize_t)slots * TC_SLOT_SIZE && !rc)
            rc = tc_fail(r, TC_INJECT_MEMORY, errno, (int64_t)scratch);
    }
    if (tc_pt(PTRACE_DETACH, pid, 0, 0) != 0 && !rc) rc = tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_DETACH);
    for (int i = 0; i < s.held_count; i++) {
        kill(pid, s.held[i]);
        r->redelivered_signals++;
    }
out:
    if (s.mem >= 0) close(s.mem);
    if (rc) r->stage = rc;
    return rc;
}

static int tc_run(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                  struct tc_inject_report *report, int use_worker, unsigned timeout_seconds,
                  int drop, uid_t uid, gid_t gid) {
    if (!use_worker) {
        // In process: hold back ^C, SIGTERM, SIGHUP and SIGQUIT in this thread
        // until the target is detached; they are delivered right after. (A
        // process-directed signal can still land on another thread, and
        // SIGKILL cannot be held: that is what the worker is for.)
        sigset_t hold, old;
        sigemptyset(&hold);
        sigaddset(&hold, SIGINT);
        sigaddset(&hold, SIGTERM);
        sigaddset(&hold, SIGHUP);
        sigaddset(&hold, SIGQUIT);
        pthread_sigmask(SIG_BLOCK, &hold, &old);
        int rc = tc_inject(pid, ids, count, out, report, 0);
        report->worker_pid = 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return rc;
    }
    memset(report, 0, sizeof *report);
    size_t size = sizeof(struct tc_inject_report) + (size_t)count * sizeof(struct tc_timer_values);
    void *shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return tc_fail(report, TC_INJECT_WORKER, errno, 0);
    struct tc_inject_report *wr = shared;
    struct tc_timer_values *wout = (struct tc_timer_values *)(wr + 1);
    sigset_t all, old;
    sigfillset(&all);
    // Block everything across fork so no handler of the parent ever runs in the worker.
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t child = fork();
    if (child == 0) {
        // The worker: its own session (a terminal's ^C or a kill of the tool's
        // process group does not reach it), all catchable signals blocked,
        // SIGALRM at its default action as the timeout for the first stop.
        setsid();
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGALRM, &dfl, NULL);
        sigset_t alarm_only;
        sigemptyset(&alarm_only);
        sigaddset(&alarm_only, SIGALRM);
        sigprocmask(SIG_UNBLOCK, &alarm_only, NULL);
        if (drop) {
            // Raw syscalls: glibc's set*id would signal threads this copy does not have.
            if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, gid, gid, gid) != 0 ||
                syscall(SYS_setresuid, uid, uid, uid) != 0) {
                tc_fail(wr, TC_INJECT_WORKER, errno, 0);
                _exit(0);
            }
        }
        tc_inject(pid, ids, count, wout, wr, timeout_seconds);
        _exit(0);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (child < 0) {
        munmap(shared, size);
        return tc_fail(report, TC_INJECT_WORKER, fork_errno, 0);
    }
    int st = 0;
    while (waitpid(child, &st, 0) < 0) {
        if (errno != EINTR) { st = -1; break; }
    }
    memcpy(report, wr, sizeof *report);
    memcpy(out, wout, (size_t)count * sizeof *out);
    report->worker_pid = child;
    munmap(shared, size);
    if (st == -1 || !WIFEXITED(st)) {
        if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
            return tc_fail(report, TC_INJECT_TIMEOUT, 0, timeout_seconds);
        return tc_fail(report, TC_INJECT_WORKER, 0, st);
    }
    return report->stage;
}

int tc_ptrace_read_timer_values(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                struct tc_inject_report *report, int use_worker, unsigned timeout_seconds) {
    return tc_run(pid, ids, count, out, report, use_worker, timeout_seconds, 0, 0, 0);
}

int tc_ptrace_read_timer_values_as(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                   struct tc_inject_report *report, unsigned timeout_seconds, uid_t uid,
                                   gid_t gid) {
    return tc_run(pid, ids, count, out, report, 1, timeout_seconds, 1, uid, gid);
}

#else  // not x86-64

int tc_ptrace_read_timer_values(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                struct tc_inject_report *report, int use_worker, unsigned timeout_seconds) {
    (void)pid; (void)ids; (void)count; (void)out; (void)use_worker; (void)timeout_seconds;
    memset(report, 0, sizeof *report);
    report->stage = TC_INJECT_UNSUPPORTED_ARCH;
    return TC_INJECT_UNSUPPORTED_ARCH;
}

int tc_ptrace_read_timer_values_as(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                   struct tc_inject_report *report, unsigned timeout_seconds, uid_t uid,
                                   gid_t gid) {
    (void)uid; (void)gid;
    return tc_ptrace_read_timer_values(pid, ids, count, out, report, 1, timeout_seconds);
}

#endif
