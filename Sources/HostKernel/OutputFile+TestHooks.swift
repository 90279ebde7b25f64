#if canImport(Glibc)
import Glibc
#endif

/// Test hooks of the writer, set only by the test suite through the
/// environment (a user never sets them).
enum TestHooks {
    /// TIMER_CRIU_TEST_PAUSE_BEFORE_RENAME_MS: wait with the temporary file
    /// complete and the rename not yet done, so a test can interrupt there;
    /// the wait ends early when a held stop signal arrives.
    static func pauseBeforeRename() {
        guard let text = getenv("TIMER_CRIU_TEST_PAUSE_BEFORE_RENAME_MS"), let ms = Int(String(cString: text)),
              ms > 0 else { return }
        for _ in 0..<ms where HeldStopSignals.pending() == nil { usleep(1000) }
    }
}
