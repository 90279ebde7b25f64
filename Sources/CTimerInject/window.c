// The window: the target runs our syscalls. One at a time through the
// restorer (a stop per syscall: used only to map and unmap the scratch), or a
// whole batch in one stop through a small loop copied into the target.
#include "inject_internal.h"

#if defined(__x86_64__)
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

// The batch loop, copied into a page of its own in the target (never run
// here). Registers: rbx = first call, r12 = end of the calls, r13 = control
// block, r14 = 1 while skipping to the next FINALLY call, rsp = our safety
// frame + 8. Each call is struct tc_call: nr (4 bytes), flags (4), args (6 x
// 8), result (8). Then: done flag, and ppoll(NULL, 0, 1 s) so the tracer can
// take the target back at an interruptible place; if it is gone, the sleep
// ends and rt_sigreturn puts the target's own registers, mask and FPU state
// back from the frame. ppoll, not nanosleep: it sets no restart block, which
// would replace one the target's own interrupted sleep may need.
// Position independent: only relative jumps.
__asm__(
    ".pushsection .rodata\n"
    ".balign 16\n"
    ".hidden tc_batch_loop\n"
    ".hidden tc_batch_wait_end\n"
    ".hidden tc_batch_loop_end\n"
    "tc_batch_loop:\n"
    "1:  cmp %r12, %rbx\n"
    "    jae 4f\n"
    "    test %r14d, %r14d\n"
    "    jz 2f\n"
    "    testl $2, 4(%rbx)\n"        // TC_CALL_FINALLY: runs even while skipping
    "    jz 3f\n"
    "2:  movl (%rbx), %eax\n"
    "    mov 8(%rbx), %rdi\n"
    "    movzbl 6(%rbx), %ecx\n"     // TC_CALL_RESULT_ARG0(back): 0 = none
    "    test %ecx, %ecx\n"
    "    jz 5f\n"
    "    shl $6, %rcx\n"
    "    neg %rcx\n"
    "    mov 56(%rbx,%rcx), %rdi\n"  // the result of the call `back` calls before
    "5:  mov 16(%rbx), %rsi\n"
    "    mov 24(%rbx), %rdx\n"
    "    mov 32(%rbx), %r10\n"
    "    mov 40(%rbx), %r8\n"
    "    mov 48(%rbx), %r9\n"
    "    syscall\n"
    "    mov %rax, 56(%rbx)\n"
    "    cmp $-4095, %rax\n"          // [-4095, -1]: an errno
    "    jb 3f\n"
    "    testl $1, 4(%rbx)\n"        // TC_CALL_STOP_ON_ERROR
    "    jz 3f\n"
    "    mov $1, %r14d\n"
    "3:  add $64, %rbx\n"
    "    jmp 1b\n"
    "4:  mov %r14, 8(%r13)\n"
    "    movq $1, (%r13)\n"
    "    mov $271, %eax\n"            // ppoll(NULL, 0, &control->wait, NULL, 8)
    "    xor %edi, %edi\n"
    "    xor %esi, %esi\n"
    "    lea 16(%r13), %rdx\n"
    "    xor %r10d, %r10d\n"
    "    mov $8, %r8d\n"
    "    syscall\n"
    "tc_batch_wait_end:\n"
    "    mov $15, %eax\n"             // rt_sigreturn from our frame
    "    syscall\n"
    "    ud2\n"
    "tc_batch_loop_end:\n"
    ".popsection\n");
extern const unsigned char tc_batch_loop[], tc_batch_wait_end[], tc_batch_loop_end[];

// The control block at the start of the scratch mapping.
struct tc_control {
    uint64_t done;       // set by the loop when every call has run
    uint64_t skipping;   // r14 at the end
    int64_t wait_sec, wait_nsec;
};
#define TC_CONTROL_SIZE 64
#define TC_CODE_SIZE 4096
#define TC_CHUNK 256     // calls copied per pread/pwrite

// Handles a stop in the window that is not ours: SIGSTOP is held back and sent
// again after the detach (it cannot be blocked); a synchronous signal means
// our code faulted; group-stops and other events are just resumed.
static int tc_foreign_stop(struct tc_session *s, int st) {
    s->report->extra_stops++;
    if (((unsigned)st >> 16) == 0) {
        int sig = WSTOPSIG(st);
        if (sig == SIGSTOP) {
            if (s->held_count < 8) s->held[s->held_count++] = sig;
        } else {
            return tc_fail(s, TC_INJECT_PTRACE, EFAULT, sig);
        }
    }
    return 0;
}

// Blocks every signal while the tracee runs our code, as CRIU's compel does:
// they stay pending and arrive after the detach, instead of running a handler
// on top of injected registers.
static int tc_block_signals(struct tc_session *s) {
    if (s->mask_changed) return 0;
    uint64_t all = ~0ULL;
    if (tc_pt(PTRACE_SETSIGMASK, s->pid, (void *)sizeof all, &all) != 0)
        return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_SETSIGMASK);
    s->mask_changed = 1;
    tc_step(s);
    return 0;
}

static int tc_set_regs(struct tc_session *s, struct user_regs_struct *regs) {
    if (!s->regs_changed) s->window_start = tc_now_ns();
    if (tc_pt(PTRACE_SETREGS, s->pid, 0, regs) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_SETREGS);
    s->regs_changed = 1;
    tc_step(s);
    return 0;
}

// Runs syscall nr(args) in the stopped tracee and leaves it in the
// syscall-exit-stop (PTRACE_O_TRACESYSGOOD marks syscall stops with 0x80).
// Syscall stops are safe places to be killed in: a tracer's death there sends
// the tracee no signal (SIGTRAP|0x80 is not a valid signal number).
//
// Frame mode: the tracee sits at `mov $15,%rax; syscall` with rsp at a frame
// holding its own registers and mask; at the syscall-entry-stop of that
// rt_sigreturn we turn it into our syscall (orig_rax and arguments) and point
// rip back at the mov. Released at any moment (our death), it runs at most our
// syscall and then rt_sigreturn, which puts its registers, mask and FPU state back.
int tc_syscall(struct tc_session *s, long nr, const uint64_t args[6], long *result) {
    if (!s->at_restorer || !s->restorer) {
        struct user_regs_struct regs = s->saved;
        regs.orig_rax = (unsigned long long)-1;  // no syscall-restart logic on our registers
        if (s->restorer) {
            regs.rip = s->restorer;
            regs.rsp = s->frame_sp;
            regs.rax = TC_NR_RT_SIGRETURN;
        } else {
            regs.rip = s->gadget;
            regs.rax = (unsigned long long)nr;
            regs.rdi = args[0]; regs.rsi = args[1]; regs.rdx = args[2];
            regs.r10 = args[3]; regs.r8 = args[4]; regs.r9 = args[5];
        }
        int rc = tc_set_regs(s, &regs);
        if (rc) return rc;
        s->at_restorer = s->restorer != 0;
    }
    int rc = tc_block_signals(s);
    if (rc) return rc;
    s->report->single_syscalls++;
    int entered = 0;
    if (tc_pt(PTRACE_SYSCALL, s->pid, 0, 0) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_SYSCALL);
    for (;;) {
        int st;
        if ((rc = tc_wait_stop(s->pid, &st, s->report, 0))) { s->failed = rc; return rc; }
        if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
            struct user_regs_struct now;
            if (tc_pt(PTRACE_GETREGS, s->pid, 0, &now) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_GETREGS);
            if (!entered) {
                entered = 1;
                if (s->restorer) {
                    if ((long)now.orig_rax != TC_NR_RT_SIGRETURN)
                        return tc_fail(s, TC_INJECT_PTRACE, EPROTO, (int64_t)now.orig_rax);
                    now.orig_rax = (unsigned long long)nr;
                    now.rdi = args[0]; now.rsi = args[1]; now.rdx = args[2];
                    now.r10 = args[3]; now.r8 = args[4]; now.r9 = args[5];
                    now.rip = s->restorer;
                    now.rsp = s->frame_sp;
                    if (tc_pt(PTRACE_SETREGS, s->pid, 0, &now) != 0)
                        return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_SETREGS);
                    tc_step(s);
                }
            } else {
                if ((long)now.orig_rax != nr) return tc_fail(s, TC_INJECT_PTRACE, EPROTO, (int64_t)now.orig_rax);
                *result = (long)now.rax;
                tc_step(s);
                return 0;
            }
        } else if ((rc = tc_foreign_stop(s, st))) {
            return rc;
        }
        if (tc_pt(PTRACE_SYSCALL, s->pid, 0, 0) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_SYSCALL);
    }
}

static int tc_map(struct tc_session *s, size_t len, int prot, uint64_t *at) {
    uint64_t args[6] = {0, len, (uint64_t)prot, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
    long result = 0;
    int rc = tc_syscall(s, SYS_mmap, args, &result);
    if (rc) return rc;
    if (result < 0 && result >= -4095) return tc_fail(s, TC_INJECT_SCRATCH_MAP, (int)-result, (int64_t)len);
    *at = (uint64_t)result;
    return 0;
}

// The loop's page (r-x: we write it through /proc/PID/mem, which may write a
// read-only private mapping, so the target never has a writable and
// executable page, and MDWE or SELinux execmem rules are kept) and the
// read-write scratch for the control block, calls and argument blocks.
static int tc_ensure_scratch(struct tc_session *s, size_t need) {
    int rc;
    if (!s->code) {
        if ((rc = tc_map(s, TC_CODE_SIZE, PROT_READ | PROT_EXEC, &s->code))) return rc;
        size_t len = (size_t)(tc_batch_loop_end - tc_batch_loop);
        if (pwrite(s->mem, tc_batch_loop, len, (off_t)s->code) != (ssize_t)len)
            return tc_fail(s, TC_INJECT_MEMORY, errno, (int64_t)s->code);
    }
    if (s->scratch_len >= need) return 0;
    if (s->scratch) {
        uint64_t args[6] = {s->scratch, s->scratch_len, 0, 0, 0, 0};
        long result = 0;
        if ((rc = tc_syscall(s, SYS_munmap, args, &result))) return rc;
        s->scratch = 0;
        s->scratch_len = 0;
    }
    size_t len = (need + 65535) & ~(size_t)65535;
    if ((rc = tc_map(s, len, PROT_READ | PROT_WRITE, &s->scratch))) return rc;
    s->scratch_len = len;
    s->report->scratch_address = s->scratch;
    return 0;
}

// Writes the calls with data arguments turned into addresses in the target.
static int tc_write_calls(struct tc_session *s, const struct tc_call *calls, int32_t count, uint64_t at, uint64_t data_at) {
    struct tc_call chunk[TC_CHUNK];
    for (int32_t done = 0; done < count;) {
        int32_t n = count - done < TC_CHUNK ? count - done : TC_CHUNK;
        for (int32_t k = 0; k < n; k++) {
            chunk[k] = calls[done + k];
            for (int a = 0; a < 6; a++)
                if (chunk[k].flags & TC_CALL_DATA_ARG(a)) chunk[k].args[a] += data_at;
            chunk[k].result = TC_CALL_NOT_RUN;
        }
        size_t bytes = (size_t)n * sizeof *chunk;
        if (pwrite(s->mem, chunk, bytes, (off_t)(at + (uint64_t)done * sizeof *chunk)) != (ssize_t)bytes)
            return tc_fail(s, TC_INJECT_MEMORY, errno, (int64_t)at);
        done += n;
    }
    return 0;
}

// Copy results: each call's result, and the data block (what syscalls wrote).
static int tc_read_results(struct tc_session *s, struct tc_call *calls, int32_t count, uint64_t at,
                           void *data, size_t data_len, uint64_t data_at) {
    struct tc_call chunk[TC_CHUNK];
    for (int32_t done = 0; done < count;) {
        int32_t n = count - done < TC_CHUNK ? count - done : TC_CHUNK;
        size_t bytes = (size_t)n * sizeof *chunk;
        if (pread(s->mem, chunk, bytes, (off_t)(at + (uint64_t)done * sizeof *chunk)) != (ssize_t)bytes)
            return tc_fail(s, TC_INJECT_MEMORY, errno, (int64_t)at);
        for (int32_t k = 0; k < n; k++) calls[done + k].result = chunk[k].result;
        done += n;
    }
    if (data_len && pread(s->mem, data, data_len, (off_t)data_at) != (ssize_t)data_len)
        return tc_fail(s, TC_INJECT_MEMORY, errno, (int64_t)data_at);
    return 0;
}

// Waits until the loop says done, handling stops that are not ours.
static int tc_wait_done(struct tc_session *s, uint64_t control) {
    int64_t pause_ns = 2000;
    for (;;) {
        uint64_t done = 0;
        if (pread(s->mem, &done, sizeof done, (off_t)control) != (ssize_t)sizeof done)
            return tc_fail(s, TC_INJECT_MEMORY, errno, (int64_t)control);
        if (done) return 0;
        int st;
        pid_t w = waitpid(s->pid, &st, __WALL | WNOHANG);
        if (w < 0 && errno != EINTR) return tc_fail(s, TC_INJECT_WAIT, errno, 0);
        if (w > 0) {
            if (WIFEXITED(st) || WIFSIGNALED(st)) {
                s->seized = 0;
                return tc_fail(s, TC_INJECT_EXITED, st, 0);
            }
            int rc = tc_foreign_stop(s, st);
            if (rc) return rc;
            if (tc_pt(PTRACE_CONT, s->pid, 0, 0) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_CONT);
            continue;
        }
        struct timespec ts = {0, pause_ns};
        nanosleep(&ts, NULL);
        if (pause_ns < 200000) pause_ns *= 2;
    }
}

// PTRACE_INTERRUPT of the loop waiting in its ppoll; the event stop comes
// back, possibly after stops that are not ours.
static int tc_take_back(struct tc_session *s) {
    if (tc_pt(PTRACE_INTERRUPT, s->pid, 0, 0) != 0) return tc_fail(s, TC_INJECT_INTERRUPT, errno, 0);
    for (;;) {
        int st, rc = tc_wait_stop(s->pid, &st, s->report, 0);
        if (rc) {
            if (rc == TC_INJECT_EXITED) s->seized = 0;
            s->failed = rc;
            return rc;
        }
        if (((unsigned)st >> 16) == PTRACE_EVENT_STOP) return 0;
        if ((rc = tc_foreign_stop(s, st))) return rc;
        if (tc_pt(PTRACE_CONT, s->pid, 0, 0) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_CONT);
        if (tc_pt(PTRACE_INTERRUPT, s->pid, 0, 0) != 0) return tc_fail(s, TC_INJECT_INTERRUPT, errno, 0);
    }
}

int tc_run_batch(struct tc_session *s, struct tc_call *calls, int32_t count, void *data, size_t data_len) {
    if (s->failed) return s->failed;
    if (count <= 0) return 0;
    for (int32_t i = 0; i < count; i++) {
        for (int a = 0; a < 6; a++)
            if ((calls[i].flags & TC_CALL_DATA_ARG(a)) && calls[i].args[a] > data_len)
                return tc_report_fail(s->report, TC_INJECT_NO_SCRATCH, 3, i);
        // A result argument names an earlier call of this batch.
        if (TC_CALL_RESULT_BACK(calls[i].flags) > i) return tc_report_fail(s->report, TC_INJECT_NO_SCRATCH, 4, i);
    }
    uint64_t calls_bytes = (uint64_t)count * sizeof(struct tc_call);
    uint64_t need = TC_CONTROL_SIZE + calls_bytes + data_len;
    if (need > TC_MAX_BATCH_BYTES) return tc_report_fail(s->report, TC_INJECT_NO_SCRATCH, 2, (int64_t)need);
    int rc = tc_ensure_scratch(s, (size_t)need);
    if (rc) return rc;
    uint64_t control = s->scratch, calls_at = control + TC_CONTROL_SIZE, data_at = calls_at + calls_bytes;
    if (data_len && pwrite(s->mem, data, data_len, (off_t)data_at) != (ssize_t)data_len)
        return tc_fail(s, TC_INJECT_MEMORY, errno, (int64_t)data_at);
    if ((rc = tc_write_calls(s, calls, count, calls_at, data_at))) return rc;
    struct tc_control block = {0, 0, 1, 0};  // the tail waits 1 s for us (docs/restore-into.md)
    if (pwrite(s->mem, &block, sizeof block, (off_t)control) != (ssize_t)sizeof block)
        return tc_fail(s, TC_INJECT_MEMORY, errno, (int64_t)control);

    struct user_regs_struct regs = s->saved;
    regs.orig_rax = (unsigned long long)-1;
    regs.rip = s->code;
    regs.rsp = s->restorer ? s->frame_sp : ((s->saved.rsp - TC_RED_ZONE) & ~15ULL);
    regs.rbx = calls_at;
    regs.r12 = calls_at + calls_bytes;
    regs.r13 = control;
    regs.r14 = 0;
    if ((rc = tc_set_regs(s, &regs))) return rc;
    s->at_restorer = 0;
    if ((rc = tc_block_signals(s))) return rc;
    if (tc_pt(PTRACE_CONT, s->pid, 0, 0) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_CONT);
    tc_step(s);
    s->report->batches++;
    if ((rc = tc_wait_done(s, control))) return rc;
    tc_step(s);
    if ((rc = tc_take_back(s))) return rc;
    tc_step(s);
    struct user_regs_struct now;
    if (tc_pt(PTRACE_GETREGS, s->pid, 0, &now) != 0) return tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_GETREGS);
    uint64_t wait_end = s->code + (uint64_t)(tc_batch_wait_end - tc_batch_loop);
    if (now.rip < s->code || now.rip > wait_end) {
        // The 1 s wait ran out before we came back: rt_sigreturn already put
        // the target's registers and mask back and it has run on, using its
        // stack below the old red zone again. Leave both alone.
        s->regs_changed = 0;
        s->mask_changed = 0;
        s->stack_saved = 0;
        s->report->window_nanoseconds = tc_now_ns() - s->window_start;
        return tc_fail(s, TC_INJECT_RESUMED, 0, (int64_t)now.rip);
    }
    return tc_read_results(s, calls, count, calls_at, data, data_len, data_at);
}

#endif  // __x86_64__
