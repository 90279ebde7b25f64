#define _GNU_SOURCE
#include "CTimerSyscalls.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <linux/kcmp.h>
#include <unistd.h>

// The kernel's struct sigevent (64 bytes on x86-64); spelled out so the
// thread-id member is set the same way on every libc.
struct tc_kernel_sigevent {
    uint64_t sival;
    int signo;
    int notify;
    union {
        int pad[12];
        int tid;
    } un;
};

long tc_timer_create(int clock_id, int has_sigevent, int notify, int signo,
                     uint64_t sival, int tid, int *id) {
    struct tc_kernel_sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sival = sival;
    sev.signo = signo;
    sev.notify = notify;
    sev.un.tid = tid;
    return syscall(SYS_timer_create, clock_id, has_sigevent ? &sev : NULL, id);
}

long tc_timer_delete(int id) { return syscall(SYS_timer_delete, id); }

long tc_timer_settime(int id, int flags, const struct itimerspec *value,
                      struct itimerspec *old) {
    return syscall(SYS_timer_settime, id, flags, value, old);
}

long tc_timer_gettime(int id, struct itimerspec *value) {
    return syscall(SYS_timer_gettime, id, value);
}

long tc_timer_getoverrun(int id) { return syscall(SYS_timer_getoverrun, id); }

long tc_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4,
              unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}

long tc_ptrace(long request, pid_t pid, void *addr, void *data) {
    return ptrace((enum __ptrace_request)request, pid, addr, data);
}

pid_t tc_gettid(void) { return (pid_t)syscall(SYS_gettid); }

long tc_tgkill(pid_t tgid, pid_t tid, int sig) {
    return syscall(SYS_tgkill, tgid, tid, sig);
}

static volatile sig_atomic_t tc_caught_signal = 0;

static void tc_record_signal(int signo) { tc_caught_signal = signo; }

int tc_catch_stop_signal(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = tc_record_signal;
    sigemptyset(&action.sa_mask);
    return sigaction(signo, &action, NULL);
}

int tc_stop_signal(void) { return tc_caught_signal; }

int tc_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

long tc_kcmp_file(pid_t pid1, pid_t pid2, int fd1, int fd2) {
    return syscall(SYS_kcmp, pid1, pid2, KCMP_FILE, (unsigned long)fd1, (unsigned long)fd2);
}

// _IOW('T', 0, u64) from include/uapi/linux/timerfd.h (no libc header has it).
#define TC_TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)

long tc_timerfd_set_ticks(int fd, uint64_t ticks) {
    return ioctl(fd, TC_TFD_IOC_SET_TICKS, &ticks);
}

int tc_dup3(int oldfd, int newfd, int flags) { return dup3(oldfd, newfd, flags); }

long tc_timerfd_create(int clock_id, int flags) { return syscall(SYS_timerfd_create, clock_id, flags); }

long tc_timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old) {
    return syscall(SYS_timerfd_settime, fd, flags, value, old);
}

long tc_timerfd_gettime(int fd, struct itimerspec *value) { return syscall(SYS_timerfd_gettime, fd, value); }

int tc_fd_flags(int fd) { return fcntl(fd, F_GETFD); }

long tc_prlimit_nofile(pid_t pid, const uint64_t *new_soft_hard, uint64_t *old_soft_hard) {
    return syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, new_soft_hard, old_soft_hard);
}
