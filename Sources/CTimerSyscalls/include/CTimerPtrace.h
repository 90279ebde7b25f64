// Syscall injection into a live process through ptrace, to run timer_gettime
// and timer_getoverrun inside it (only the owning process may ask, KERNEL-FACTS
// section 1). x86-64 only. See docs/dump-values.md for the step-by-step and
// the failure windows.
//
// Why this is C and not Swift: the injection runs in a forked worker process
// (so killing the tool, even with SIGKILL, cannot strand the target half way:
// the worker finishes in about a millisecond and detaches). After fork() in a
// multi-threaded process only async-signal-safe code may run, so the worker is
// plain C that makes raw syscalls and never allocates.
#ifndef C_TIMER_PTRACE_H
#define C_TIMER_PTRACE_H

#include <stdint.h>
#include <sys/types.h>

/// Where an injection stopped. TC_INJECT_OK means every timer was asked (a
/// timer's own errno is in its tc_timer_values entry).
enum tc_inject_stage {
    TC_INJECT_OK = 0,
    TC_INJECT_SEIZE = 1,             ///< PTRACE_SEIZE failed; err = errno
    TC_INJECT_INTERRUPT = 2,         ///< PTRACE_INTERRUPT failed; err = errno
    TC_INJECT_WAIT = 3,              ///< waitpid failed; err = errno
    TC_INJECT_EXITED = 4,            ///< the target exited or was killed; err = wait status
    TC_INJECT_NOT_X86_64 = 5,        ///< the leader runs 32-bit code; detail = cs
    TC_INJECT_NO_SYSCALL_INSN = 6,   ///< no 0f 05 found in the vdso or any r-x mapping
    TC_INJECT_NO_SCRATCH = 7,        ///< no room below the red zone; detail = rsp
    TC_INJECT_PTRACE = 8,            ///< another ptrace request failed; err = errno, detail = request
    TC_INJECT_MEMORY = 9,            ///< /proc/PID/mem or maps failed; err = errno, detail = address
    TC_INJECT_TIMEOUT = 10,          ///< the target did not stop within the timeout (D state?)
    TC_INJECT_WORKER = 11,           ///< fork/mmap failed (err) or the worker died (detail = wait status)
    TC_INJECT_UNSUPPORTED_ARCH = 12, ///< built for an architecture other than x86-64
};

/// One timer's answer, read inside the target.
struct tc_timer_values {
    int32_t id;
    int32_t gettime_errno;    ///< 0, or the errno timer_gettime returned in the target
    int32_t getoverrun_errno; ///< 0, or the errno timer_getoverrun returned
    int32_t overrun;
    int64_t value_sec, value_nsec, interval_sec, interval_nsec;
};

/// What happened, for errors and for the docs' window measurements.
struct tc_inject_report {
    int32_t stage;               ///< enum tc_inject_stage
    int32_t err;                 ///< errno or wait status, see the stage
    int64_t detail;              ///< stage-specific, see the stage
    int64_t window_nanoseconds;  ///< time the target's registers were not its own
    int32_t redelivered_signals; ///< unblockable signals (SIGSTOP) held back and re-sent
    int32_t extra_stops;         ///< stops other than our syscall stops during the window
    uint64_t syscall_address;    ///< the 0f 05 used
    uint64_t scratch_address;    ///< start of the scratch area below the red zone
    int32_t worker_pid;          ///< the worker's pid (0 when run in process)
    int32_t sigreturn_frame;     ///< 1: a rt_sigreturn frame guarded the window (no harm if we die)
};

/// Reads timer_gettime and timer_getoverrun of `count` timers inside process
/// `pid` (its thread-group leader) by ptrace syscall injection, then puts back
/// its registers, signal mask and scratch memory and detaches.
/// out[i] answers ids[i]. Returns report->stage (0 on success).
///
/// use_worker != 0 (what the tool uses): the injection runs in a forked worker
/// in its own session with all catchable signals blocked; this call waits for
/// it. use_worker == 0 runs it in the calling thread (tests that measure the
/// bare window; never use it in a process that reaps children with waitpid(-1)
/// or waits on the target's pid itself while this runs).
/// timeout_seconds bounds the wait for the first stop (worker only; 0 = none).
int tc_ptrace_read_timer_values(pid_t pid, const int32_t *ids, int32_t count,
                                struct tc_timer_values *out,
                                struct tc_inject_report *report,
                                int use_worker, unsigned timeout_seconds);

/// Test hook: like tc_ptrace_read_timer_values with use_worker = 1, but the
/// worker first drops to uid/gid (setresgid/setresuid, no supplementary
/// groups), as an unprivileged user would run the tool.
int tc_ptrace_read_timer_values_as(pid_t pid, const int32_t *ids, int32_t count,
                                   struct tc_timer_values *out,
                                   struct tc_inject_report *report,
                                   unsigned timeout_seconds, uid_t uid, gid_t gid);

/// Test hook: like the worker mode, but the worker exits (as if SIGKILLed:
/// the kernel detaches) at step `abandon_at_step` (1, 2, ...) of the window,
/// to show what the target does when its tracer dies right there.
/// Report stage TC_INJECT_WORKER with detail = the step when it did.
int tc_ptrace_read_timer_values_abandoning(pid_t pid, const int32_t *ids, int32_t count,
                                           struct tc_timer_values *out,
                                           struct tc_inject_report *report,
                                           int abandon_at_step);

#endif
