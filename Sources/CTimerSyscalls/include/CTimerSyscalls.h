// Fixed-argument wrappers for the variadic libc calls Swift cannot call
// (syscall, prctl, ptrace). The ptrace injection engine is its own target,
// CTimerInject. Each returns what the kernel returned; on failure
// -1 with errno set, like libc. Prefix: tc_ (timer-criu).
#ifndef C_TIMER_SYSCALLS_H
#define C_TIMER_SYSCALLS_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77  // Linux 6.15, include/uapi/linux/prctl.h
#endif
#define TC_PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define TC_PR_TIMER_CREATE_RESTORE_IDS_ON 1
#define TC_PR_TIMER_CREATE_RESTORE_IDS_GET 2

/// timer_create(2) as the raw syscall (SYS_timer_create). glibc's wrapper passes
/// its own local timer_t, so create-at-ID mode would never see *id.
/// has_sigevent == 0 passes a NULL sigevent (SIGEV_SIGNAL, SIGALRM, sival = ID).
/// notify is the raw sigev_notify (SIGEV_THREAD_ID = 4 may be or'ed in), tid is
/// only read for SIGEV_THREAD_ID. *id is read in create-at-ID mode and written
/// with the new ID on success.
long tc_timer_create(int clock_id, int has_sigevent, int notify, int signo,
                     uint64_t sival, int tid, int *id);

/// timer_delete(2), raw syscall.
long tc_timer_delete(int id);

/// timer_settime(2), raw syscall. old may be NULL.
long tc_timer_settime(int id, int flags, const struct itimerspec *value,
                      struct itimerspec *old);

/// timer_gettime(2), raw syscall.
long tc_timer_gettime(int id, struct itimerspec *value);

/// timer_getoverrun(2), raw syscall.
long tc_timer_getoverrun(int id);

/// prctl(2) with all four extra arguments spelled out.
long tc_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4,
              unsigned long a5);

/// ptrace(2) with its fixed four arguments.
long tc_ptrace(long request, pid_t pid, void *addr, void *data);

/// gettid(2).
pid_t tc_gettid(void);

/// tgkill(2).
long tc_tgkill(pid_t tgid, pid_t tid, int sig);

/// pipe2(fds, O_CLOEXEC): glibc declares pipe2 only under _GNU_SOURCE.
int tc_pipe_cloexec(int fds[2]);

/// Installs a handler for `signo` that only records the signal (async-signal
/// safe; long loops poll tc_stop_signal()). SA_RESTART is not set, so a
/// blocking read returns EINTR.
int tc_catch_stop_signal(int signo);

/// The last signal caught by tc_catch_stop_signal's handler, 0 if none.
int tc_stop_signal(void);

/// kcmp(pid1, pid2, KCMP_FILE, fd1, fd2), raw syscall (glibc has no wrapper):
/// 0 when both fds are the same open file, 1 or 2 ordering them otherwise.
long tc_kcmp_file(pid_t pid1, pid_t pid2, int fd1, int fd2);

/// ioctl(fd, TFD_IOC_SET_TICKS, &ticks): ioctl is variadic. Linux 3.17+ with
/// CONFIG_CHECKPOINT_RESTORE; ENOTTY otherwise.
long tc_timerfd_set_ticks(int fd, uint64_t ticks);

/// timerfd_create(2), timerfd_settime(2), timerfd_gettime(2) as raw syscalls
/// (Swift's Glibc module does not import <sys/timerfd.h>).
long tc_timerfd_create(int clock_id, int flags);
long tc_timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old);
long tc_timerfd_gettime(int fd, struct itimerspec *value);

/// fcntl(fd, F_GETFD): fcntl is variadic. -1 with EBADF when fd is not open.
int tc_fd_flags(int fd);

/// dup3(old, new, flags): glibc declares dup3 only under _GNU_SOURCE; the
/// only way to place an fd keeping O_CLOEXEC (dup2 clears it).
int tc_dup3(int oldfd, int newfd, int flags);

/// prlimit64(pid, RLIMIT_NOFILE, new, old), raw syscall: reads (new = NULL)
/// or sets the fd limit of any process (pid 0: the caller), old = {soft, hard}.
/// glibc declares prlimit only under _GNU_SOURCE.
long tc_prlimit_nofile(pid_t pid, const uint64_t *new_soft_hard, uint64_t *old_soft_hard);

#endif
