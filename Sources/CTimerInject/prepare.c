// Prepare: seize and stop the target, save what the window will change, find
// the code we borrow, and build the rt_sigreturn safety frame on its stack.
// Async-signal-safe: runs in the forked worker of dump --values.
#include "inject_internal.h"

#if defined(__x86_64__)
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>

int tc_report_fail(struct tc_inject_report *r, int stage, int err, int64_t detail) {
    r->stage = stage;
    r->err = err;
    r->detail = detail;
    return stage;
}

int tc_fail(struct tc_session *s, int stage, int err, int64_t detail) {
    if (!s->failed) s->failed = stage;
    return tc_report_fail(s->report, stage, err, detail);
}

int64_t tc_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long tc_pt(long request, pid_t pid, void *addr, void *data) {
    return syscall(SYS_ptrace, request, pid, addr, data);
}

// Test hook: simulates the death of the tracer at a given step of the window.
void tc_step(struct tc_session *s) {
    if (s->abandon_at && ++s->step == s->abandon_at) {
        s->report->stage = TC_INJECT_WORKER;
        s->report->detail = s->step;
        _exit(0);
    }
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

static int tc_read_maps(struct tc_session *s, uint64_t rsp, struct tc_maps *m) {
    char path[64], buf[4096], line[512];
    size_t line_len = 0;
    memset(m, 0, sizeof *m);
    tc_proc_path(path, s->pid, "/maps");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tc_fail(s, TC_INJECT_MEMORY, errno, 0);
    for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return tc_fail(s, TC_INJECT_MEMORY, e, 0);
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

// First occurrence of pattern in [start, end) (at most `limit` bytes read), or 0.
static uint64_t tc_find_in(int mem, uint64_t start, uint64_t end, uint64_t limit,
                           const unsigned char *pattern, size_t len) {
    unsigned char buf[16384];
    if (end - start > limit) end = start + limit;
    for (uint64_t at = start; at < end;) {
        size_t want = sizeof buf;
        if (end - at < want) want = (size_t)(end - at);
        ssize_t got = pread(mem, buf, want, (off_t)at);
        if (got < (ssize_t)len) return 0;
        for (ssize_t i = 0; i + (ssize_t)len <= got; i++)
            if (buf[i] == pattern[0] && memcmp(buf + i, pattern, len) == 0) return at + (uint64_t)i;
        at += (uint64_t)got - (len - 1);  // overlap so a match across chunks is seen
    }
    return 0;
}

// First occurrence of pattern in the r-x mappings (vdso excluded), or 0.
static uint64_t tc_find_in_code(int mem, const struct tc_maps *m, const unsigned char *pattern, size_t len) {
    for (int v = 0; v < m->exec_count; v++) {
        uint64_t at = tc_find_in(mem, m->exec[v].start, m->exec[v].end, 64u << 20, pattern, len);
        if (at) return at;
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

// Waits for the next stop of pid. A deadline (ns, CLOCK_MONOTONIC) of 0 blocks;
// otherwise polls, so a target in state D ends the wait with TC_INJECT_TIMEOUT
// without an alarm signal (the in-process sessions of restore --into).
static int tc_wait_until(pid_t pid, int *status, struct tc_inject_report *r, int64_t deadline) {
    int64_t pause_ns = 20000;
    for (;;) {
        pid_t w = waitpid(pid, status, __WALL | (deadline ? WNOHANG : 0));
        if (w < 0) {
            if (errno == EINTR) continue;
            return tc_report_fail(r, TC_INJECT_WAIT, errno, 0);
        }
        if (w == 0) {
            if (tc_now_ns() > deadline) return tc_report_fail(r, TC_INJECT_TIMEOUT, 0, 0);
            struct timespec ts = {0, pause_ns};
            nanosleep(&ts, NULL);
            if (pause_ns < 1000000) pause_ns *= 2;
            continue;
        }
        if (WIFEXITED(*status) || WIFSIGNALED(*status)) return tc_report_fail(r, TC_INJECT_EXITED, *status, 0);
        if (WIFSTOPPED(*status)) return 0;
    }
}

int tc_wait_stop(pid_t pid, int *status, struct tc_inject_report *r, int stage_on_error) {
    (void)stage_on_error;
    return tc_wait_until(pid, status, r, 0);
}

// PTRACE_INTERRUPT, then wait for the PTRACE_EVENT_STOP. A signal that reaches
// the tracee first (any signal is reported to a tracer) is passed through
// unchanged and the interrupt asked again.
static int tc_interrupt(pid_t pid, unsigned timeout_seconds, struct tc_inject_report *r) {
    int64_t deadline = tc_now_ns() + (int64_t)(timeout_seconds ? timeout_seconds : 10) * 1000000000LL;
    if (tc_pt(PTRACE_INTERRUPT, pid, 0, 0) != 0) return tc_report_fail(r, TC_INJECT_INTERRUPT, errno, 0);
    for (;;) {
        int st, rc = tc_wait_until(pid, &st, r, deadline);
        if (rc == TC_INJECT_TIMEOUT) r->detail = timeout_seconds ? timeout_seconds : 10;
        if (rc) return rc;
        if (((unsigned)st >> 16) == PTRACE_EVENT_STOP) return 0;
        int sig = WSTOPSIG(st);
        if (tc_pt(PTRACE_CONT, pid, 0, (void *)(long)sig) != 0)
            return tc_report_fail(r, TC_INJECT_PTRACE, errno, PTRACE_CONT);
        if (tc_pt(PTRACE_INTERRUPT, pid, 0, 0) != 0) return tc_report_fail(r, TC_INJECT_INTERRUPT, errno, 0);
    }
}

int tc_stop_thread(pid_t pid, unsigned timeout_seconds, struct tc_inject_report *r) {
    // No PTRACE_O_EXITKILL: if we die, the kernel detaches and the thread runs on.
    if (tc_pt(PTRACE_SEIZE, pid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD) != 0)
        return tc_report_fail(r, TC_INJECT_SEIZE, errno, 0);
    int rc = tc_interrupt(pid, timeout_seconds, r);
    if (rc && rc != TC_INJECT_EXITED) tc_pt(PTRACE_DETACH, pid, 0, 0);
    return rc;
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

#define TC_NT_X86_XSTATE 0x202
#define TC_FP_XSTATE_MAGIC1 0x46505853U
#define TC_FP_XSTATE_MAGIC2 0x46505845U
#define TC_UC_FP_XSTATE 0x1
#define TC_UC_SIGCONTEXT_SS 0x2
#define TC_UC_STRICT_RESTORE_SS 0x4

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

// The safety frame, right below the red zone: the target's registers (restart
// applied), its mask and its FPU/AVX state in the signal-frame format. Only if
// glibc's restorer is there, the FPU state reads back, it fits and no shadow
// stack is in use; returns 0 or a tc_no_frame_reason.
static int tc_build_frame(struct tc_session *s, const struct tc_maps *maps) {
    static const unsigned char restore_rt[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};  // glibc __restore_rt
    static const unsigned char restore_rt_short[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};       // mov $15,%eax; syscall
    if (tc_has_shadow_stack(s->pid)) return TC_NO_FRAME_SHADOW_STACK;
    uint64_t restorer = tc_find_in_code(s->mem, maps, restore_rt, sizeof restore_rt);
    if (!restorer) restorer = tc_find_in_code(s->mem, maps, restore_rt_short, sizeof restore_rt_short);
    if (!restorer) return TC_NO_FRAME_NO_RESTORER;
    unsigned char xstate[TC_MAX_XSTATE];
    struct iovec iov = {xstate, sizeof xstate};
    if (tc_pt(PTRACE_GETREGSET, s->pid, (void *)(long)TC_NT_X86_XSTATE, &iov) != 0 || iov.iov_len < 576 ||
        iov.iov_len + 4 > TC_MAX_XSTATE)
        return TC_NO_FRAME_NO_XSTATE;
    // The regset is the standard XSAVE image; a signal frame's one also
    // carries, in the fxsave area's sw_reserved bytes, struct _fpx_sw_bytes,
    // and FP_XSTATE_MAGIC2 right after the image. xfeatures = the image's
    // XSTATE_BV: those components are restored from it, the others are in
    // their init state anyway.
    uint32_t xstate_size = (uint32_t)iov.iov_len;
    uint32_t sw[12];
    memset(sw, 0, sizeof sw);
    sw[0] = TC_FP_XSTATE_MAGIC1;
    sw[1] = xstate_size + 4;                 // extended_size
    memcpy(&sw[2], xstate + 512, 8);         // xfeatures = XSTATE_BV of the xsave header
    sw[4] = xstate_size;
    memcpy(xstate + 464, sw, sizeof sw);
    uint32_t magic2 = TC_FP_XSTATE_MAGIC2;
    memcpy(xstate + xstate_size, &magic2, 4);

    uint64_t top = (s->saved.rsp - TC_RED_ZONE) & ~63ULL;
    uint64_t fpstate = (top - xstate_size - 4) & ~63ULL;  // XRSTOR wants 64-byte alignment
    uint64_t frame = (fpstate - sizeof(struct tc_rt_sigframe)) & ~15ULL;
    size_t len = (size_t)(top - frame);
    if (frame < maps->stack.start || len > sizeof s->stack_bytes) return TC_NO_FRAME_NO_ROOM;
    unsigned char image[sizeof(struct tc_rt_sigframe)];
    struct tc_rt_sigframe *f = (struct tc_rt_sigframe *)image;
    memset(image, 0, sizeof image);
    f->pretcode = restorer;
    f->uc.uc_flags = TC_UC_FP_XSTATE | TC_UC_SIGCONTEXT_SS | TC_UC_STRICT_RESTORE_SS;
    f->uc.ss_flags = 3;  // not a valid mode: restore_altstack leaves the target's sigaltstack alone
    tc_frame_registers(&s->saved, &f->uc.uc_mcontext);
    f->uc.uc_mcontext.fpstate = fpstate;
    f->uc.uc_sigmask = s->saved_mask;
    // The bytes below the red zone are dead by the ABI, but keep them to put back.
    if (pread(s->mem, s->stack_bytes, len, (off_t)frame) != (ssize_t)len) return TC_NO_FRAME_NO_ROOM;
    s->stack_region = frame;
    s->stack_region_len = len;
    s->stack_saved = 1;
    if (pwrite(s->mem, image, sizeof image, (off_t)frame) != (ssize_t)sizeof image ||
        pwrite(s->mem, xstate, xstate_size + 4, (off_t)fpstate) != (ssize_t)(xstate_size + 4))
        return TC_NO_FRAME_NO_ROOM;
    s->restorer = restorer;
    s->frame_sp = frame + 8;  // rt_sigreturn reads the frame at rsp - 8
    s->report->sigreturn_frame = 1;
    return 0;
}

int tc_prepare(struct tc_session *s, pid_t pid, int require_frame, unsigned timeout_seconds) {
    s->pid = pid;
    s->mem = -1;
    // No PTRACE_O_EXITKILL: if we die, the kernel detaches and the target runs on.
    if (tc_pt(PTRACE_SEIZE, pid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD) != 0)
        return tc_fail(s, TC_INJECT_SEIZE, errno, 0);
    s->seized = 1;
    int rc = tc_interrupt(pid, timeout_seconds, s->report);
    if (rc) {
        s->failed = rc;
        if (rc == TC_INJECT_EXITED) s->seized = 0;
        return rc;
    }
    struct tc_maps maps;
    for (int attempt = 0;; attempt++) {
        if (tc_pt(PTRACE_GETREGS, pid, 0, &s->saved) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_GETREGS);
        if (s->saved.cs != TC_USER_CS_64) return tc_fail(s, TC_INJECT_NOT_X86_64, 0, (int64_t)s->saved.cs);
        if (tc_pt(PTRACE_GETSIGMASK, pid, (void *)sizeof s->saved_mask, &s->saved_mask) != 0)
            return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_GETSIGMASK);
        if ((rc = tc_read_maps(s, s->saved.rsp, &maps))) return rc;
        // The frame goes below the stack pointer: only on the process stack
        // or a guarded thread stack (the thread injected into when the main
        // thread has exited), whose lower pages belong to no one else. A
        // handler running on an alternate signal stack, or a coroutine on a
        // heap stack, may have live data of other threads right below: let it
        // run 2 ms and stop it again.
        if (maps.stack_is_main || maps.stack_is_guarded) break;
        if (attempt == 50) return tc_fail(s, TC_INJECT_NO_SCRATCH, 1, (int64_t)s->saved.rsp);
        if (tc_pt(PTRACE_CONT, pid, 0, 0) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_CONT);
        struct timespec pause_2ms = {0, 2000000};
        nanosleep(&pause_2ms, NULL);
        if ((rc = tc_interrupt(pid, timeout_seconds, s->report))) {
            s->failed = rc;
            if (rc == TC_INJECT_EXITED) s->seized = 0;
            return rc;
        }
    }
    char path[64];
    tc_proc_path(path, pid, "/mem");
    s->mem = open(path, O_RDWR | O_CLOEXEC);
    if (s->mem < 0) return tc_fail(s, TC_INJECT_MEMORY, errno, 0);
    // The syscall instruction for plain mode: the vdso has a few (its fallback paths); else any r-x mapping.
    static const unsigned char syscall_insn[] = {0x0f, 0x05};
    if (maps.vdso.start) s->gadget = tc_find_in(s->mem, maps.vdso.start, maps.vdso.end, 1 << 20, syscall_insn, 2);
    for (int i = 0; !s->gadget && i < maps.exec_count; i++)
        s->gadget = tc_find_in(s->mem, maps.exec[i].start, maps.exec[i].end, 1 << 20, syscall_insn, 2);
    if (!s->gadget) return tc_fail(s, TC_INJECT_NO_SYSCALL_INSN, 0, 0);
    s->report->syscall_address = s->gadget;
    if (!maps.stack.start || s->saved.rsp - TC_RED_ZONE <= maps.stack.start)
        return tc_fail(s, TC_INJECT_NO_SCRATCH, 0, (int64_t)s->saved.rsp);
    int no_frame = tc_build_frame(s, &maps);
    if (no_frame && require_frame) return tc_fail(s, TC_INJECT_NO_FRAME, 0, no_frame);
    return 0;
}

#endif  // __x86_64__
