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
#include <sys/uio.h>
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
    int stack_is_main;               // ... and it is the process stack, "[stack]"
    int stack_is_guarded;            // ... or an anonymous rw mapping right above a ---p guard (a pthread stack)
    uint64_t guard_end;              // end of the last ---p anonymous mapping seen (maps are in address order)
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
    // Anonymous: the line ends at the inode "0" and one space (named mappings are padded, then the name).
    size_t used = len;
    while (used && line[used - 1] == ' ') used--;
    int anonymous = used >= 2 && memcmp(line + used - 2, " 0", 2) == 0;
    if (rsp - 1 >= start && rsp - 1 < end) {
        m->stack.start = start;
        m->stack.end = end;
        m->stack_is_main = len >= 7 && memcmp(line + len - 7, "[stack]", 7) == 0;
        // glibc maps a thread's stack with its guard page at the bottom: the
        // whole mapping is that thread's stack, so below rsp is free.
        m->stack_is_guarded = anonymous && perms[0] == 'r' && perms[1] == 'w' && m->guard_end == start;
    }
    if (anonymous && perms[0] == '-' && perms[1] == '-' && perms[2] == '-') m->guard_end = end;
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

// "/proc/PID" + leaf into path (64 bytes). snprintf is not async-signal-safe
// and this runs in the forked worker, so the digits are written by hand.
static void tc_proc_path(char *path, pid_t pid, const char *leaf) {
    char digits[16];
    int n = 0;
    unsigned value = (unsigned)pid;
    do { digits[n++] = (char)('0' + value % 10); value /= 10; } while (value);
    size_t p = 6;
    memcpy(path, "/proc/", 6);
    while (n) path[p++] = digits[--n];
    size_t len = strlen(leaf);
    memcpy(path + p, leaf, len + 1);
}

static int tc_read_maps(pid_t pid, uint64_t rsp, struct tc_maps *m, struct tc_inject_report *r) {
    char path[64], buf[4096], line[512];
    size_t line_len = 0;
    memset(m, 0, sizeof *m);
    tc_proc_path(path, pid, "/maps");
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
    tc_proc_path(path, pid, "/mem");
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

// The kernel's x86-64 signal frame up to the FPU state (arch/x86/include/asm/sigframe.h,
// uapi asm/sigcontext.h and asm-generic/ucontext.h): what rt_sigreturn reads.
struct tc_sigcontext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;
    uint64_t reserved1[8];
};
struct tc_ucontext {
    uint64_t uc_flags;
    uint64_t uc_link;
    uint64_t ss_sp;
    int32_t ss_flags, ss_pad;
    uint64_t ss_size;
    struct tc_sigcontext uc_mcontext;
    uint64_t uc_sigmask;
};
struct tc_rt_sigframe {
    uint64_t pretcode;
    struct tc_ucontext uc;
    unsigned char info[128];
};
_Static_assert(sizeof(struct tc_sigcontext) == 256, "struct sigcontext is 256 bytes on x86-64");
_Static_assert(sizeof(struct tc_ucontext) == 304, "struct ucontext is 304 bytes on x86-64");

#define TC_NR_RT_SIGRETURN 15
#define TC_NT_X86_XSTATE 0x202
#define TC_FP_XSTATE_MAGIC1 0x46505853U
#define TC_FP_XSTATE_MAGIC2 0x46505845U
#define TC_UC_FP_XSTATE 0x1
#define TC_UC_SIGCONTEXT_SS 0x2
#define TC_UC_STRICT_RESTORE_SS 0x4
#define TC_MAX_XSTATE 16384
#define TC_MAX_SCRATCH (TC_MAX_SLOTS * TC_SLOT_SIZE + (int)sizeof(struct tc_rt_sigframe) + TC_MAX_XSTATE + 256)

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
    uint64_t gadget;        // a 0f 05 (plain mode)
    uint64_t restorer;      // "mov $15,%rax; syscall" (sigreturn-frame mode), 0 when not used
    uint64_t frame_sp;      // rsp at which rt_sigreturn finds our frame
    int abandon_at, step;   // test hook: the worker exits at window step abandon_at
    struct tc_inject_report *report;
};

// Test hook: simulates the death of the tracer at a given step of the window.
static void tc_step(struct tc_session *s) {
    if (s->abandon_at && ++s->step == s->abandon_at) {
        s->report->stage = TC_INJECT_WORKER;
        s->report->detail = s->step;
        _exit(0);
    }
}

// Runs syscall nr(a0, a1) in the stopped tracee and leaves it in the
// syscall-exit-stop (PTRACE_O_TRACESYSGOOD marks syscall stops with 0x80).
// Syscall stops are safe places to be killed in: a tracer's death there sends
// the tracee no signal (SIGTRAP|0x80 is not a valid signal number).
//
// Sigreturn-frame mode: the tracee always sits at `mov $15,%rax; syscall`
// with rsp at a frame holding its own registers and mask; at the
// syscall-entry-stop of that rt_sigreturn we turn it into our syscall (orig_rax
// and arguments) and point rip back at the mov. Released at any moment (our
// death), it runs at most our harmless syscall and then rt_sigreturn, which
// puts its registers, mask and FPU state back.
static int tc_run_syscall(struct tc_session *s, long nr, uint64_t a0, uint64_t a1, long *result,
                          struct tc_inject_report *r) {
    if (!s->regs_changed || !s->restorer) {
        struct user_regs_struct regs = s->saved;
        regs.orig_rax = (unsigned long long)-1;  // no syscall-restart logic on our registers
        if (s->restorer) {
            regs.rip = s->restorer;
            regs.rsp = s->frame_sp;
            regs.rax = TC_NR_RT_SIGRETURN;
        } else {
            regs.rip = s->gadget;
            regs.rax = (unsigned long long)nr;
            regs.rdi = a0;
            regs.rsi = a1;
        }
        if (!s->regs_changed) s->window_start = tc_now_ns();
        if (tc_pt(PTRACE_SETREGS, s->pid, 0, &regs) != 0) return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SETREGS);
        s->regs_changed = 1;
        tc_step(s);
    }
    if (!s->mask_changed) {
        // Block every signal while the tracee runs our code, as CRIU's compel
        // does: they stay pending and arrive after the detach, instead of
        // running a handler on top of injected registers.
        uint64_t all = ~0ULL;
        if (tc_pt(PTRACE_SETSIGMASK, s->pid, (void *)sizeof all, &all) != 0)
            return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SETSIGMASK);
        s->mask_changed = 1;
        tc_step(s);
    }
    int entered = 0;
    if (tc_pt(PTRACE_SYSCALL, s->pid, 0, 0) != 0) return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SYSCALL);
    for (;;) {
        int st, rc = tc_wait_stop(s->pid, &st, r);
        if (rc) return rc;
        int sig = WSTOPSIG(st);
        unsigned event = (unsigned)st >> 16;
        if (sig == (SIGTRAP | 0x80)) {
            struct user_regs_struct now;
            if (tc_pt(PTRACE_GETREGS, s->pid, 0, &now) != 0) return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_GETREGS);
            if (!entered) {
                entered = 1;
                if (s->restorer) {
                    if ((long)now.orig_rax != TC_NR_RT_SIGRETURN)
                        return tc_fail(r, TC_INJECT_PTRACE, EPROTO, (int64_t)now.orig_rax);
                    now.orig_rax = (unsigned long long)nr;
                    now.rdi = a0;
                    now.rsi = a1;
                    now.rip = s->restorer;
                    now.rsp = s->frame_sp;
                    if (tc_pt(PTRACE_SETREGS, s->pid, 0, &now) != 0)
                        return tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_SETREGS);
                    tc_step(s);
                }
            } else {
                if ((long)now.orig_rax != nr) return tc_fail(r, TC_INJECT_PTRACE, EPROTO, (int64_t)now.orig_rax);
                *result = (long)now.rax;
                tc_step(s);
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
        tc_step(s);
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

// First occurrence of pattern in the r-x mappings (vdso excluded), or 0.
static uint64_t tc_find_bytes(int mem, const struct tc_maps *m, const unsigned char *pattern, size_t len) {
    unsigned char buf[16384];
    for (int v = 0; v < m->exec_count; v++) {
        uint64_t start = m->exec[v].start, end = m->exec[v].end;
        if (end - start > (64u << 20)) end = start + (64u << 20);
        for (uint64_t at = start; at < end;) {
            size_t want = sizeof buf;
            if (end - at < want) want = (size_t)(end - at);
            ssize_t got = pread(mem, buf, want, (off_t)at);
            if (got < (ssize_t)len) break;
            for (ssize_t i = 0; i + (ssize_t)len <= got; i++)
                if (buf[i] == pattern[0] && memcmp(buf + i, pattern, len) == 0) return at + (uint64_t)i;
            at += (uint64_t)got - (len - 1);
        }
    }
    return 0;
}

// True when /proc/PID/status lists a user shadow stack: rt_sigreturn would
// then want a shadow-stack token we cannot forge, so no frame is used.
static int tc_has_shadow_stack(pid_t pid) {
    char path[64], buf[4096];
    tc_proc_path(path, pid, "/status");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0) return 1;
    buf[got] = 0;
    const char *line = strstr(buf, "x86_Thread_features:");
    if (!line) return 0;
    const char *eol = strchr(line, '\n');
    const char *hit = strstr(line, "shstk");
    return hit && (!eol || hit < eol);
}

// The registers rt_sigreturn would restore if we died: the saved ones with the
// kernel's restart logic applied by hand (rt_sigreturn sets orig_rax = -1, so
// the kernel will not apply it), as CRIU's compel does in get_task_regs.
static void tc_frame_registers(const struct user_regs_struct *saved, struct tc_sigcontext *sc) {
    sc->r8 = saved->r8; sc->r9 = saved->r9; sc->r10 = saved->r10; sc->r11 = saved->r11;
    sc->r12 = saved->r12; sc->r13 = saved->r13; sc->r14 = saved->r14; sc->r15 = saved->r15;
    sc->rdi = saved->rdi; sc->rsi = saved->rsi; sc->rbp = saved->rbp; sc->rbx = saved->rbx;
    sc->rdx = saved->rdx; sc->rax = saved->rax; sc->rcx = saved->rcx; sc->rsp = saved->rsp;
    sc->rip = saved->rip; sc->eflags = saved->eflags;
    sc->cs = (uint16_t)saved->cs; sc->ss = (uint16_t)saved->ss;
    if ((long)saved->orig_rax >= 0) {
        switch ((long)saved->rax) {
        case -512: case -513: case -514:  // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND
            sc->rax = saved->orig_rax;
            sc->rip -= 2;
            break;
        case -516:  // ERESTART_RESTARTBLOCK: rt_sigreturn cancels the restart block, so EINTR
            sc->rax = (uint64_t)-EINTR;
            break;
        }
    }
}

static int tc_inject(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                     struct tc_inject_report *r, unsigned alarm_seconds, int abandon_at) {
    struct tc_session s;
    memset(&s, 0, sizeof s);
    memset(r, 0, sizeof *r);
    s.pid = pid;
    s.mem = -1;
    s.abandon_at = abandon_at;
    s.report = r;
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

    static const unsigned char restore_rt[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};  // glibc __restore_rt
    static const unsigned char restore_rt_short[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};       // mov $15,%eax; syscall
    unsigned char saved_scratch[TC_MAX_SCRATCH];
    unsigned char xstate[TC_MAX_XSTATE];
    unsigned char results[TC_MAX_SLOTS * TC_SLOT_SIZE];
    struct tc_maps maps;
    uint64_t scratch = 0, region = 0;
    size_t region_len = 0;
    int slots = 0, scratch_saved = 0;
    int32_t batch_start = 0, batch_len = 0;

    for (int attempt = 0;; attempt++) {
        if (tc_pt(PTRACE_GETREGS, pid, 0, &s.saved) != 0) { rc = tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_GETREGS); goto detach; }
        if (s.saved.cs != TC_USER_CS_64) { rc = tc_fail(r, TC_INJECT_NOT_X86_64, 0, (int64_t)s.saved.cs); goto detach; }
        if (tc_pt(PTRACE_GETSIGMASK, pid, (void *)sizeof s.saved_mask, &s.saved_mask) != 0) {
            rc = tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_GETSIGMASK);
            goto detach;
        }
        if ((rc = tc_read_maps(pid, s.saved.rsp, &maps, r))) goto detach;
        // The scratch goes below the stack pointer: only on the process stack
        // or a guarded thread stack (the thread injected into when the main
        // thread has exited), whose lower pages belong to no one else. A
        // handler running on an alternate signal stack, or a coroutine on a
        // heap stack, may have live data of other threads right below: let it
        // run 2 ms and stop it again.
        if (maps.stack_is_main || maps.stack_is_guarded) break;
        if (attempt == 50) { rc = tc_fail(r, TC_INJECT_NO_SCRATCH, 1, (int64_t)s.saved.rsp); goto detach; }
        if (tc_pt(PTRACE_CONT, pid, 0, 0) != 0) { rc = tc_fail(r, TC_INJECT_PTRACE, errno, PTRACE_CONT); goto detach; }
        struct timespec pause_2ms = {0, 2000000};
        nanosleep(&pause_2ms, NULL);
        if (alarm_seconds) alarm(alarm_seconds);
        rc = tc_stop(pid, r);
        if (alarm_seconds) alarm(0);
        if (rc) return rc;
    }
    s.mem = tc_open_mem(pid);
    if (s.mem < 0) { rc = tc_fail(r, TC_INJECT_MEMORY, errno, 0); goto detach; }
    // The syscall instruction: the vdso has a few (its fallback paths); else any r-x mapping.
    if (maps.vdso.start) s.gadget = tc_find_syscall(s.mem, maps.vdso.start, maps.vdso.end, 1 << 20);
    for (int i = 0; !s.gadget && i < maps.exec_count; i++)
        s.gadget = tc_find_syscall(s.mem, maps.exec[i].start, maps.exec[i].end, 1 << 20);
    if (!s.gadget) { rc = tc_fail(r, TC_INJECT_NO_SYSCALL_INSN, 0, 0); goto detach; }
    r->syscall_address = s.gadget;
    // Scratch for the struct itimerspec results: below the red zone, inside the
    // mapping that holds the stack pointer, 64-byte aligned.
    slots = count < TC_MAX_SLOTS ? count : TC_MAX_SLOTS;
    for (; slots > 0; slots--) {
        scratch = (s.saved.rsp - TC_RED_ZONE - (uint64_t)slots * TC_SLOT_SIZE) & ~63ULL;
        if (maps.stack.start && scratch >= maps.stack.start && scratch < s.saved.rsp) break;
    }
    if (slots == 0) { rc = tc_fail(r, TC_INJECT_NO_SCRATCH, 0, (int64_t)s.saved.rsp); goto detach; }
    r->scratch_address = scratch;
    region = scratch;
    region_len = (size_t)slots * TC_SLOT_SIZE;

    // The sigreturn frame, below the slots: only if glibc's restorer is there,
    // the FPU state reads back in the signal-frame format, it fits, and no
    // shadow stack is in use. Otherwise the plain mode (with its window).
    {
        uint64_t restorer = tc_find_bytes(s.mem, &maps, restore_rt, sizeof restore_rt);
        if (!restorer) restorer = tc_find_bytes(s.mem, &maps, restore_rt_short, sizeof restore_rt_short);
        struct iovec iov = {xstate, sizeof xstate};
        uint32_t xstate_size = 0;
        if (restorer && !tc_has_shadow_stack(pid) &&
            tc_pt(PTRACE_GETREGSET, pid, (void *)(long)TC_NT_X86_XSTATE, &iov) == 0 && iov.iov_len >= 576 &&
            iov.iov_len + 4 <= TC_MAX_XSTATE) {
            // The regset is the standard XSAVE image; a signal frame's one also
            // carries, in the fxsave area's sw_reserved bytes, struct
            // _fpx_sw_bytes, and FP_XSTATE_MAGIC2 right after the image.
            // xfeatures = the image's XSTATE_BV: those components are restored
            // from it, the others are in their init state anyway.
            xstate_size = (uint32_t)iov.iov_len;
            uint32_t sw[12];
            memset(sw, 0, sizeof sw);
            sw[0] = TC_FP_XSTATE_MAGIC1;
            sw[1] = xstate_size + 4;                 // extended_size
            memcpy(&sw[2], xstate + 512, 8);         // xfeatures = XSTATE_BV of the xsave header
            sw[4] = xstate_size;
            memcpy(xstate + 464, sw, sizeof sw);
        }
        if (xstate_size) {
            uint64_t fpstate = (scratch - xstate_size - 4) & ~63ULL;  // XRSTOR wants 64-byte alignment
            uint64_t frame = (fpstate - sizeof(struct tc_rt_sigframe)) & ~15ULL;
            size_t len = (size_t)(scratch + (uint64_t)slots * TC_SLOT_SIZE - frame);
            if (frame >= maps.stack.start && len <= TC_MAX_SCRATCH) {
                unsigned char image[sizeof(struct tc_rt_sigframe)];
                struct tc_rt_sigframe *f = (struct tc_rt_sigframe *)image;
                memset(image, 0, sizeof image);
                f->pretcode = restorer;
                f->uc.uc_flags = TC_UC_FP_XSTATE | TC_UC_SIGCONTEXT_SS | TC_UC_STRICT_RESTORE_SS;
                f->uc.ss_flags = 3;  // not a valid mode: restore_altstack leaves the target's sigaltstack alone
                tc_frame_registers(&s.saved, &f->uc.uc_mcontext);
                f->uc.uc_mcontext.fpstate = fpstate;
                f->uc.uc_sigmask = s.saved_mask;
                uint32_t magic2 = TC_FP_XSTATE_MAGIC2;
                memcpy(xstate + xstate_size, &magic2, 4);
                // Save everything from the frame to the end of the slots, then write frame and FPU state.
                if (pread(s.mem, saved_scratch, len, (off_t)frame) == (ssize_t)len) {
                    region = frame;
                    region_len = len;
                    scratch_saved = 1;
                    if (pwrite(s.mem, image, sizeof image, (off_t)frame) == (ssize_t)sizeof image &&
                        pwrite(s.mem, xstate, xstate_size + 4, (off_t)fpstate) == (ssize_t)(xstate_size + 4)) {
                        s.restorer = restorer;
                        s.frame_sp = frame + 8;  // rt_sigreturn reads the frame at rsp - 8
                        r->sigreturn_frame = 1;
                    }
                }
            }
        }
    }
    if (!scratch_saved) {
        if (pread(s.mem, saved_scratch, region_len, (off_t)region) != (ssize_t)region_len) {
            rc = tc_fail(r, TC_INJECT_MEMORY, errno, (int64_t)region);
            goto detach;
        }
        scratch_saved = 1;
    }

    // --- The window: from here until tc_restore the registers are ours. ---
    int32_t done = 0;
    while (done < count) {
        batch_start = done;
        batch_len = count - done < slots ? count - done : slots;
        for (int32_t k = 0; k < batch_len; k++) {
            int32_t i = batch_start + k;
            long result = 0;
            uint64_t slot = scratch + (uint64_t)k * TC_SLOT_SIZE;
            if ((rc = tc_run_syscall(&s, TC_NR_TIMER_GETTIME, (uint64_t)(long)ids[i], slot, &result, r))) goto restore;
            if (result < 0) out[i].gettime_errno = (int32_t)-result;
            if ((rc = tc_run_syscall(&s, TC_NR_TIMER_GETOVERRUN, (uint64_t)(long)ids[i], 0, &result, r))) goto restore;
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
        if (pwrite(s.mem, saved_scratch, region_len, (off_t)region) != (ssize_t)region_len && !rc)
            rc = tc_fail(r, TC_INJECT_MEMORY, errno, (int64_t)region);
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
                  int drop, uid_t uid, gid_t gid, int abandon_at) {
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
        int rc = tc_inject(pid, ids, count, out, report, 0, 0);
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
        tc_inject(pid, ids, count, wout, wr, timeout_seconds, abandon_at);
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
    return tc_run(pid, ids, count, out, report, use_worker, timeout_seconds, 0, 0, 0, 0);
}

int tc_ptrace_read_timer_values_as(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                   struct tc_inject_report *report, unsigned timeout_seconds, uid_t uid,
                                   gid_t gid) {
    return tc_run(pid, ids, count, out, report, 1, timeout_seconds, 1, uid, gid, 0);
}

int tc_ptrace_read_timer_values_abandoning(pid_t pid, const int32_t *ids, int32_t count,
                                           struct tc_timer_values *out, struct tc_inject_report *report,
                                           int abandon_at_step) {
    return tc_run(pid, ids, count, out, report, 1, 10, 0, 0, 0, abandon_at_step);
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

int tc_ptrace_read_timer_values_abandoning(pid_t pid, const int32_t *ids, int32_t count,
                                           struct tc_timer_values *out, struct tc_inject_report *report,
                                           int abandon_at_step) {
    (void)abandon_at_step;
    return tc_ptrace_read_timer_values(pid, ids, count, out, report, 1, 10);
}

#endif
