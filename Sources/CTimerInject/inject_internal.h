// The engine's shared state and the calls between its four files.
#ifndef C_TIMER_INJECT_INTERNAL_H
#define C_TIMER_INJECT_INTERNAL_H
#define _GNU_SOURCE
#include "CTimerInject.h"

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <sys/ptrace.h>
#include <sys/user.h>

#define TC_RED_ZONE 128         // System V x86-64 ABI: below rsp, still the function's
#define TC_MAX_EXEC_VMAS 32
#define TC_USER_CS_64 0x33      // __USER_CS: the leader is running 64-bit code
#define TC_MAX_XSTATE 16384
#define TC_MAX_FRAME_REGION (TC_MAX_XSTATE + 1024)
#define TC_MAX_BATCH_BYTES (64u << 20)   // calls + data of one batch
#define TC_NR_RT_SIGRETURN 15

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

struct tc_session {
    pid_t pid;
    int mem;                         // /proc/PID/mem, O_RDWR
    int failed;                      // stage of the first failure (0: none)
    struct user_regs_struct saved;
    uint64_t saved_mask;
    int seized;
    int mask_changed;
    int regs_changed;
    int at_restorer;                 // frame mode: the tracee sits at the restorer, ready for tc_syscall
    int64_t window_start;
    int held[8];                     // SIGSTOPs (unblockable) that arrived in the window, re-sent after detach
    int held_count;
    uint64_t gadget;                 // a 0f 05 (plain mode)
    uint64_t restorer;               // "mov $15,%rax; syscall" (frame mode), 0 when not used
    uint64_t frame_sp;               // rsp at which rt_sigreturn finds our frame
    uint64_t stack_region;           // the stack bytes the frame covers, saved in stack_bytes
    size_t stack_region_len;
    int stack_saved;
    unsigned char stack_bytes[TC_MAX_FRAME_REGION];
    uint64_t code;                   // the batch loop's page in the target (0: not mapped)
    uint64_t scratch;                // control block, calls and data of batches (0: not mapped)
    size_t scratch_len;
    int abandon_at, step;            // test hook: exit at window step abandon_at
    struct tc_inject_report *report;
    struct tc_inject_report own_report;
};

int tc_report_fail(struct tc_inject_report *r, int stage, int err, int64_t detail);
int tc_fail(struct tc_session *s, int stage, int err, int64_t detail);  // also remembers the first failure
int64_t tc_now_ns(void);
long tc_pt(long request, pid_t pid, void *addr, void *data);
void tc_step(struct tc_session *s);

// prepare.c
int tc_wait_stop(pid_t pid, int *status, struct tc_inject_report *r, int unused);  // blocking waitpid(__WALL)
int tc_stop_thread(pid_t pid, unsigned timeout_seconds, struct tc_inject_report *r);
int tc_prepare(struct tc_session *s, pid_t pid, int require_frame, unsigned timeout_seconds);

// window.c
int tc_syscall(struct tc_session *s, long nr, const uint64_t args[6], long *result);
int tc_run_batch(struct tc_session *s, struct tc_call *calls, int32_t count, void *data, size_t data_len);

// restore.c
int tc_finish(struct tc_session *s);

#endif  // __x86_64__
#endif
