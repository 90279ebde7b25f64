// Syscall injection into a live process through ptrace: the target itself
// makes the syscalls (timers belong to a process and only it may ask about or
// create them, docs/kernel-facts.md section 1). x86-64 only. See
// docs/dump-values.md (the safety frame, step by step) and docs/restore-into.md
// (the batch engine, sessions, what a killed tool can leave).
//
// Why this is C and not Swift: `dump --values` runs the injection in a forked
// worker (so killing the tool, even with SIGKILL, cannot strand the target
// half way). After fork() in a multi-threaded process only async-signal-safe
// code may run, so the engine is plain C that makes raw syscalls and never
// allocates (except tc_session_open, which is for in-process sessions).
//
// The engine in four steps (one file each):
//   prepare.c  seize, stop, save registers/mask, find code, build the safety frame
//   window.c   run one syscall, or a batch of them in one stop (the batch loop)
//   restore.c  put registers, mask, stack bytes back, unmap the scratch, detach
//   session.c  the public calls below: sessions, one-shot batches in a worker
#ifndef C_TIMER_INJECT_H
#define C_TIMER_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Where an injection stopped. TC_INJECT_OK means every call was made (each
/// call's own result, possibly -errno, is in its tc_call).
enum tc_inject_stage {
    TC_INJECT_OK = 0,
    TC_INJECT_SEIZE = 1,             ///< PTRACE_SEIZE failed; err = errno
    TC_INJECT_INTERRUPT = 2,         ///< PTRACE_INTERRUPT failed; err = errno
    TC_INJECT_WAIT = 3,              ///< waitpid failed; err = errno
    TC_INJECT_EXITED = 4,            ///< the target exited or was killed; err = wait status
    TC_INJECT_NOT_X86_64 = 5,        ///< the leader runs 32-bit code; detail = cs
    TC_INJECT_NO_SYSCALL_INSN = 6,   ///< no 0f 05 found in the vdso or any r-x mapping
    TC_INJECT_NO_SCRATCH = 7,        ///< no room below the red zone (detail = rsp), or off its stack (err = 1), or a batch too big (err = 2), or a result argument naming no earlier call (err = 4)
    TC_INJECT_PTRACE = 8,            ///< another ptrace request failed; err = errno, detail = request
    TC_INJECT_MEMORY = 9,            ///< /proc/PID/mem or maps failed; err = errno, detail = address
    TC_INJECT_TIMEOUT = 10,          ///< the target did not stop within the timeout (D state?)
    TC_INJECT_WORKER = 11,           ///< fork/mmap failed (err) or the worker died (detail = wait status)
    TC_INJECT_UNSUPPORTED_ARCH = 12, ///< built for an architecture other than x86-64
    TC_INJECT_NO_FRAME = 13,         ///< a safety frame was required but cannot be built; detail = enum tc_no_frame_reason
    TC_INJECT_SCRATCH_MAP = 14,      ///< mmap of the scratch mapping failed inside the target; err = its errno
    TC_INJECT_RESUMED = 15,          ///< the target left the batch on its own (its tail timed out): the frame put it back
};

/// Why no rt_sigreturn safety frame could be built (TC_INJECT_NO_FRAME).
enum tc_no_frame_reason {
    TC_NO_FRAME_SHADOW_STACK = 1,    ///< x86_Thread_features: shstk (rt_sigreturn wants a token we cannot forge)
    TC_NO_FRAME_NO_RESTORER = 2,     ///< no `mov $15,%rax; syscall` in its code
    TC_NO_FRAME_NO_XSTATE = 3,       ///< PTRACE_GETREGSET NT_X86_XSTATE failed or too big
    TC_NO_FRAME_NO_ROOM = 4,         ///< the frame does not fit in its stack mapping
};

/// One timer's answer, read inside the target (dump --values).
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
    int32_t extra_stops;         ///< stops other than our own during the window
    uint64_t syscall_address;    ///< the 0f 05 used for single syscalls
    uint64_t scratch_address;    ///< the scratch mapping made in the target (0: none yet)
    int32_t worker_pid;          ///< the worker's pid (0 when run in process)
    int32_t sigreturn_frame;     ///< 1: a rt_sigreturn frame guarded the window (no harm if we die)
    int32_t batches;             ///< batch runs (one stop each)
    int32_t single_syscalls;     ///< syscalls run one stop each (mmap/munmap of the scratch)
};

// ---- Generic injected syscalls ------------------------------------------------

/// tc_call.flags: on a result in [-4095, -1], skip the following calls up to
/// the next one marked TC_CALL_FINALLY (those still run).
#define TC_CALL_STOP_ON_ERROR 1u
/// tc_call.flags: runs even while skipping after a failed STOP_ON_ERROR call.
#define TC_CALL_FINALLY 2u
/// tc_call.flags: argument i (0-5) is an offset into the batch's data block;
/// the engine passes the block's address in the target + offset.
#define TC_CALL_DATA_ARG(i) (1u << (8 + (i)))
/// tc_call.flags: argument 0 is the result of the call `back` (1-255) calls
/// before this one in the batch (timerfd_create's fd for the dup3 and close
/// that move it to its number, without a stop in between).
#define TC_CALL_RESULT_ARG0(back) ((uint32_t)((back) & 0xff) << 16)
#define TC_CALL_RESULT_BACK(flags) ((int32_t)(((flags) >> 16) & 0xff))
/// tc_call.result of a call that was skipped.
#define TC_CALL_NOT_RUN ((int64_t)(-0x7fffffffffffffffLL - 1))

/// One syscall for the target to make: nr(args[0..5]); result is what the
/// kernel returned (>= 0, or -errno), or TC_CALL_NOT_RUN. 64 bytes: the batch
/// loop in the target reads this layout.
struct tc_call {
    int32_t nr;
    uint32_t flags;
    uint64_t args[6];
    int64_t result;
};

/// A tracing session on one process's thread-group leader: seized and stopped
/// from tc_session_open until tc_session_close. Opaque.
struct tc_session;

/// Seizes `pid` (its leader), stops it (waiting at most timeout_seconds, 0 =
/// 10 s), saves its registers, mask and the stack bytes the safety frame
/// covers. require_frame != 0 refuses (TC_INJECT_NO_FRAME) a target where no
/// rt_sigreturn frame can guard the window. On failure returns NULL with
/// *report saying why; the target is then already detached and whole.
/// Call from one thread only: ptrace belongs to the thread that seized.
struct tc_session *tc_session_open(pid_t pid, int require_frame, unsigned timeout_seconds,
                                   struct tc_inject_report *report);

/// Runs `count` calls in the target in one stop: the argument blocks (`data`,
/// data_len bytes) and the calls are written into a scratch mapping in the
/// target (made on first use), a small loop there makes the syscalls, the
/// results and the data block are copied back into `calls` and `data`.
/// Returns the stage (0: every call ran or was skipped by its flags).
int tc_session_run(struct tc_session *s, struct tc_call *calls, int32_t count, void *data, size_t data_len);

/// Unmaps the scratch mapping, puts back mask, registers and stack bytes,
/// detaches, re-sends held SIGSTOPs, frees the session. Returns the stage of
/// the first failure of the session (0 if none); *report gets the summary.
int tc_session_close(struct tc_session *s, struct tc_inject_report *report);

/// The session's report so far.
void tc_session_get_report(const struct tc_session *s, struct tc_inject_report *report);

/// One batch in a fresh session: open, run, close. use_worker != 0 (what the
/// tool uses for one-shot reads): in a forked worker in its own session with
/// every catchable signal blocked, so killing the caller cannot interrupt it.
/// use_worker == 0 runs it in the calling thread (never in a process that
/// reaps children with waitpid(-1) or waits on the target itself meanwhile).
int tc_inject_batch(pid_t pid, struct tc_call *calls, int32_t count, void *data, size_t data_len,
                    struct tc_inject_report *report, int use_worker, unsigned timeout_seconds);

/// Seizes and stops one more thread `tid` (any thread of a process; not the
/// session's leader): PTRACE_SEIZE, PTRACE_INTERRUPT, wait for the event stop,
/// passing signals that arrive first on unchanged. Returns the stage.
/// If the caller dies, the kernel detaches it and it runs on.
int tc_thread_stop(pid_t tid, unsigned timeout_seconds, struct tc_inject_report *report);

/// PTRACE_DETACH of a thread stopped by tc_thread_stop: it runs on.
int tc_thread_resume(pid_t tid);

// ---- dump --values: timer_gettime and timer_getoverrun of many timers ----------

/// Reads timer_gettime and timer_getoverrun of `count` timers inside process
/// `pid` (its thread-group leader) in one batch, then puts everything back and
/// detaches. out[i] answers ids[i]. Returns report->stage (0 on success).
/// use_worker and timeout_seconds as for tc_inject_batch.
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

/// Test hook for sessions: the calling process _exits at step `step` of the
/// window of the next session opened in this process (0 = never).
void tc_session_abandon_at(int step);

#endif
