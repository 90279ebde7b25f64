#if canImport(Glibc)
import Glibc
#endif

extension TimerValueReader {
    /// Set only by tests: TIMER_CRIU_PTRACE_IN_PROCESS=1 injects from a thread
    /// of this process instead of a forked worker (`inProcess`).
    enum TestHooks {
        static var injectInProcess: Bool {
            getenv("TIMER_CRIU_PTRACE_IN_PROCESS").map { String(cString: $0) == "1" } == true
        }
    }
}
