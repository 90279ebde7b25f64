import TimerCore
import TimerFormats
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Every errno prints by name and strerror's text (no "Unknown error 30").
final class KernelErrnoTests: XCTestCase {
    func testFileErrnosHaveTheirNames() {
        let expected: [(Int32, String, String)] = [
            (30, "EROFS", "Read-only file system"), (21, "EISDIR", "Is a directory"),
            (20, "ENOTDIR", "Not a directory"), (28, "ENOSPC", "No space left on device"),
            (36, "ENAMETOOLONG", "File name too long"), (40, "ELOOP", "Too many levels of symbolic links"),
            (6, "ENXIO", "No such device or address"), (32, "EPIPE", "Broken pipe"), (18, "EXDEV", "Invalid cross-device link"),
            (122, "EDQUOT", "Disk quota exceeded"), (27, "EFBIG", "File too large"), (24, "EMFILE", "Too many open files"),
            (95, "EOPNOTSUPP", "Operation not supported"), (11, "EAGAIN", "Resource temporarily unavailable"),
        ]
        for (value, name, message) in expected {
            let e = KernelErrno(rawValue: value)
            XCTAssertEqual(e.name, name)
            XCTAssertEqual(e.message, message)
            XCTAssertEqual(e.nameAndMessage, "\(name): \(message)")
            XCTAssertEqual(KernelErrno(name: name), e)
        }
    }

    /// The table's texts are glibc's: every value 1...133 the C library
    /// knows prints as strerror(3) prints it, and has a name.
    func testEveryLinuxErrnoMatchesStrerror() {
        for value in Int32(1)...133 {
            let text = String(cString: strerror(value))
            if text.hasPrefix("Unknown error") { continue }  // 41 and 58 are unused on Linux
            let e = KernelErrno(rawValue: value)
            XCTAssertEqual(e.message, text, "errno \(value)")
            XCTAssertTrue(e.name.hasPrefix("E") && !e.name.contains(" "), "errno \(value) has no name: \(e.name)")
        }
        XCTAssertEqual(KernelErrno(rawValue: 4095).name, "errno 4095")
    }
}
