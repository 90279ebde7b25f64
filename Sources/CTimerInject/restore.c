// Restore: unmap the scratch, put back the signal mask and, LAST, the
// registers (from that moment on the tracee is whole again and the tracer may
// die at any time: the kernel detaches, and its own syscall-restart logic runs
// on the original registers because ptrace_unlink sets TIF_SIGPENDING), then
// the stack bytes under the frame, detach, re-send held SIGSTOPs.
#include "inject_internal.h"

#if defined(__x86_64__)
#include <signal.h>

static void tc_unmap(struct tc_session *s, uint64_t *at, size_t len) {
    if (!*at) return;
    uint64_t args[6] = {*at, len, 0, 0, 0, 0};
    long result = 0;
    if (tc_syscall(s, SYS_munmap, args, &result) == 0 && result == 0) *at = 0;
}

int tc_finish(struct tc_session *s) {
    int alive = s->seized && s->failed != TC_INJECT_EXITED && s->failed != TC_INJECT_RESUMED;
    if (alive && s->mem >= 0 && (s->code || s->scratch)) {
        // After a failed step the tracee may not be where tc_syscall expects:
        // start again from the saved registers. The first failure is what the report keeps.
        struct tc_inject_report before = *s->report;
        int failed = s->failed;
        if (failed) s->at_restorer = 0;
        s->failed = 0;
        tc_unmap(s, &s->scratch, s->scratch_len);
        tc_unmap(s, &s->code, 4096);
        if (failed) {
            s->report->stage = before.stage;
            s->report->err = before.err;
            s->report->detail = before.detail;
            s->failed = failed;
        }
    }
    if (alive && s->mask_changed) {
        if (tc_pt(PTRACE_SETSIGMASK, s->pid, (void *)sizeof s->saved_mask, &s->saved_mask) != 0)
            tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_SETSIGMASK);
        else
            s->mask_changed = 0;
        tc_step(s);
    }
    if (alive && s->regs_changed) {
        if (tc_pt(PTRACE_SETREGS, s->pid, 0, &s->saved) != 0)
            tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_SETREGS);
        else
            s->regs_changed = 0;
        s->report->window_nanoseconds = tc_now_ns() - s->window_start;
    }
    // --- The window is closed. ---
    if (alive && s->stack_saved && s->mem >= 0) {
        if (pwrite(s->mem, s->stack_bytes, s->stack_region_len, (off_t)s->stack_region) != (ssize_t)s->stack_region_len)
            tc_fail(s, TC_INJECT_MEMORY, errno, (int64_t)s->stack_region);
    }
    if (s->seized && s->failed != TC_INJECT_EXITED) {
        if (tc_pt(PTRACE_DETACH, s->pid, 0, 0) != 0 && errno != ESRCH)
            tc_fail(s, TC_INJECT_PTRACE, errno, PTRACE_DETACH);
        s->seized = 0;
    }
    for (int i = 0; i < s->held_count; i++) {
        kill(s->pid, s->held[i]);
        s->report->redelivered_signals++;
    }
    s->held_count = 0;
    if (s->mem >= 0) close(s->mem);
    s->mem = -1;
    if (s->failed) s->report->stage = s->failed;
    return s->failed;
}

#endif  // __x86_64__
