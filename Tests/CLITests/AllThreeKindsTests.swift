import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// A process holding all three kinds of kernel timer (timer-fixture
/// --timerfd/--itimer): `dump` without and with `--values`, then `restore`
/// of the --values dump on the model and on the host, each verified.
final class AllThreeKindsTests: XCTestCase {
    var fixture: FixtureProcess?
    var files: [String] = []

    override func tearDown() {
        fixture?.stop()
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        super.tearDown()
    }

    func testDumpAndRestoreAllThreeKinds() throws {
        let fixture = try FixtureProcess([
            "id=0,clock=monotonic,signal=14,arm=100s,interval=5s",
            "--timerfd", "fd=5,clock=monotonic,arm=60s,interval=2s",
            "--timerfd", "fd=9,clock=realtime,abs=1,arm=300s",
            "--timerfd", "fd=12,clock=boottime,arm=1ms,interval=1ms",
            "--timerfd", "fd=30,clock=monotonic,flags=nonblock+cloexec",
            "--itimer", "which=real,arm=90s", "--itimer", "which=virtual,arm=20s,interval=2s",
        ])
        self.fixture = fixture
        // Plain: timerfds from /proc, no itimers, fd 12 not forwarded.
        let plain = try runTimerCRIU(["dump", "\(fixture.pid)"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let plainCheckpoint = try Checkpoint(json: Array(plain.stdout))
        XCTAssertNil(plainCheckpoint.itimers)
        XCTAssertEqual(plainCheckpoint.timerFDs?.map(\.fd), [5, 9, 12, 30])
        XCTAssertEqual(plainCheckpoint.timerFDs?[3].flags, 0x80800)
        XCTAssertEqual(plainCheckpoint.timerFDs?[1].settimeFlags, 1)

        // --values: itimers, and fd 12 forwarded (many ticks, armed).
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tc-all-\(UUID().uuidString).json").path
        files.append(path)
        usleep(50_000)
        let dump = try runTimerCRIU(["dump", "\(fixture.pid)", "--values", "-o", path])
        if dump.status == 4 { throw XCTSkip("ptrace not permitted here: \(dump.stderr)") }
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let checkpoint = try Checkpoint(json: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let itimers = try XCTUnwrap(checkpoint.itimers)
        XCTAssertGreaterThan(itimers.real.valueNanoseconds, 80_000_000_000)
        XCTAssertEqual(itimers.real.intervalNanoseconds, 0)
        XCTAssertEqual(itimers.virtual.intervalNanoseconds, 2_000_000_000)
        XCTAssertEqual(itimers.prof, .disarmed)
        let fast = try XCTUnwrap(checkpoint.timerFDs?.first { $0.fd == 12 })
        XCTAssertGreaterThan(fast.ticks, 10, "timerfd_gettime forwards the ticks")
        XCTAssertFalse(checkpoint.warnings.contains { $0.contains("not forwarded") }, "\(checkpoint.warnings)")

        for kernel in ["linux-6.15", "linux-3.10", "rfd-dense", "host"] {
            let restore = try runTimerCRIU(["restore", path, "--kernel", kernel, "--json"])
            XCTAssertEqual(restore.status, 0, kernel + restore.stderr + restore.stdoutText)
            let json = try JSONValue.parse(Array(restore.stdout))
            XCTAssertEqual(json["ok"], .bool(true), kernel)
            guard case let .array(fds) = json["timerfds"] else { XCTFail("\(kernel): no timerfds"); continue }
            XCTAssertEqual(fds.compactMap { $0["fd"]?.integer }, [5, 9, 12, 30], kernel)
            XCTAssertGreaterThan(json["itimers"]?["real"]?["value_ns"]?.integer ?? 0, 0, "\(kernel): alarm re-armed")
            XCTAssertEqual(json["timerfd_syscalls"]?["setitimer"]?.integer, 2, kernel)
        }
    }
}
