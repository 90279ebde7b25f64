#if canImport(Glibc)
import Glibc
#endif
import TimerCore

/// The same command line run again as a child in a session of its own, for
/// work that must not stop half way: killing the tool (SIGKILL included), a
/// hang-up, ^C on its terminal or a kill of its process group never reaches
/// the worker, which finishes (a `restore --into` verified, or rolled back)
/// and writes its report on the stdout and stderr it shares with the tool.
/// SIGINT and SIGTERM of the tool are passed on, so they still stop it cleanly.
public enum DetachedWorker {
    /// Set in the worker's environment.
    public static let environmentKey = "TIMER_CRIU_DETACHED_WORKER"

    public static var isWorker: Bool { getenv(environmentKey) != nil }

    /// glibc's POSIX_SPAWN_SETSID (spawn.h, _GNU_SOURCE; not imported into Swift).
    static let spawnSetsid: Int16 = 0x80

    /// Starts the worker and waits for it: its exit status, or 128 + the
    /// signal that ended it.
    public static func run() throws(ChildProcess.SpawnError) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, spawnSetsid)
        let arguments = [ChildProcess.currentExecutable] + CommandLine.arguments.dropFirst()
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        StopSignals.catchInterruptAndTerminate()
        setenv(environmentKey, "1", 1)
        var worker: pid_t = 0
        let rc = posix_spawn(&worker, arguments[0], nil, &attributes, &argv, environ)
        unsetenv(environmentKey)
        guard rc == 0 else {
            throw ChildProcess.SpawnError(description: "posix_spawn \(arguments[0]): \(KernelErrno(rawValue: rc).nameAndMessage)")
        }
        var passedOn: Int32 = 0
        while true {
            var status: Int32 = 0
            let done = waitpid(worker, &status, WNOHANG)
            if done == worker {
                // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal
            }
            if done < 0 && Glibc.errno != EINTR { return 1 }
            let received = StopSignals.received
            if received != 0 && received != passedOn {
                kill(worker, received)
                passedOn = received
            }
            usleep(2000)
        }
    }
}
