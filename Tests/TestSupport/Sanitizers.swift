#if canImport(Glibc)
import Glibc
#endif

/// Which sanitizer this test process runs under (`swift test
/// --sanitize=address|thread`, Scripts/sanitizers.sh). The runtime is linked
/// into the test binary and exports its init symbol, so a lookup tells.
/// Tests whose assertions only hold without one (a time bound, an exact
/// thread list of an instrumented child) check it and say why.
public enum ActiveSanitizer {
    /// ThreadSanitizer: code runs 5-15x slower, and every instrumented
    /// process (timer-fixture too) has one more thread, TSan's own.
    public static let thread = dlsym(nil, "__tsan_init") != nil
    /// AddressSanitizer: code runs about 2x slower.
    public static let address = dlsym(nil, "__asan_init") != nil
    /// "thread", "address" or nil.
    public static var name: String? { thread ? "thread" : address ? "address" : nil }
}
