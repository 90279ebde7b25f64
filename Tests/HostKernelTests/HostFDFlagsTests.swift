import XCTest
import CTimerSyscalls
import HostKernel
import TimerCore

#if canImport(Glibc)
import Glibc
#endif

/// fcntl(F_GETFD) through the protocol on the real kernel: the real
/// FD_CLOEXEC of each fd, as the restore's fd probe gets it.
final class HostFDFlagsTests: XCTestCase {
    func testGetFDFlagsIsTheRealFDCloexec() throws {
        let kernel = HostKernel()
        let cloexec = try kernel.timerfdCreate(clock: .monotonic, flags: CheckpointTimerFD.O_CLOEXEC)
        defer { Glibc.close(cloexec) }
        let plain = Glibc.dup(cloexec)                 // dup clears FD_CLOEXEC on the new fd
        XCTAssertGreaterThanOrEqual(plain, 0)
        defer { Glibc.close(plain) }
        let reopened = try kernel.timerfdCreate(clock: .monotonic, flags: 0)
        defer { Glibc.close(reopened) }
        try kernel.dup3(reopened, to: reopened + 50, closeOnExec: true)
        defer { Glibc.close(reopened + 50) }
        Glibc.close(reopened + 51)
        let numbers = [cloexec, plain, reopened, reopened + 50, reopened + 51]
        let results = kernel.performTimerFD(numbers.map { TimerFDStep(.getFDFlags($0), stopsOnError: false) })
        XCTAssertEqual(results, [.value(Int64(FD_CLOEXEC)), .value(0), .value(0), .value(Int64(FD_CLOEXEC)), .failed(.EBADF)])
        XCTAssertEqual(try kernel.fdFlags(cloexec), FD_CLOEXEC)
        XCTAssertFalse(kernel.isOpen(reopened + 51))
    }
}
