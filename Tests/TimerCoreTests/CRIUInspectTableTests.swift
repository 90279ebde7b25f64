import XCTest
import HostKernel
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// The table `timer-criu inspect` prints (CheckpointTable).
final class CRIUInspectTableTests: XCTestCase {
    func testFixtureTable() throws {
        let checkpoint = try CheckpointSource.load(path: CRIUFixture.directory)
        XCTAssertEqual(CheckpointTable.render(checkpoint, title: "CRIU image directory timers-case1"), """
            CRIU image directory timers-case1: pid 10177, threads [10177, 10179], kernel criu-image, 5 timers

                    ID  CLOCK                 NOTIFY                  SIGNAL        SIGEV_VALUE     ARMED                OVERRUN
                     0  monotonic (1)         signal -> pid 10177     14 (SIGALRM)  0x1111          97.576 s, every 5 s        0
                     7  realtime (0)          signal -> pid 10177     40            0xdeadbeefcafe  197.576 s, one-shot        0
                    99  monotonic (1)         thread_id -> tid 10179  34            0               47.576 s, every 1 s        0
                123456  boottime (7)          none                    0             0               disarmed                   0
            2147483647  process-cputime (-6)  signal -> pid 10177     12 (SIGUSR2)  0               disarmed                   0

            no warnings

            """)
    }

    /// A checkpoint dumped from /proc (no values), a hashed sival, an exited
    /// target, and the warnings at the end.
    func testNotDumpedHashedExitedAndWarnings() {
        var exited = CheckpointTimer(id: 3, clockID: .cpuClock(pid: 1, perThread: false, type: .sched), signal: 34,
                                     sigevValue: 0xabc, sigevValueReliable: false, notify: .threadID, notifyTarget: 77)
        exited.notifyTargetExited = true
        let checkpoint = Checkpoint(pid: 50, kernel: "4.19.0", threads: [50], timers: [
            CheckpointTimer(id: 1, clockID: .realtime, signal: 14, sigevValue: 0, notify: .thread, notifyTarget: 50),
            exited,
        ], warnings: ["timer 3: something"])
        XCTAssertEqual(CheckpointTable.render(checkpoint), """
            pid 50, threads [50], kernel 4.19.0, 2 timers

            ID  CLOCK                  NOTIFY                        SIGNAL        SIGEV_VALUE     ARMED       OVERRUN
             1  realtime (0)           thread -> pid 50              14 (SIGALRM)  0               not dumped        -
             3  cpu:pid=1:sched (-14)  thread_id -> tid 77 (exited)  34            0xabc (hashed)  not dumped        -

            warnings:
              - timer 3: something

            """)
    }

    func testArmedColumn() {
        func armed(_ value: Int64?, _ interval: Int64?) -> String {
            CheckpointTable.armed(CheckpointTimer(id: 0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal,
                                                  notifyTarget: 1, valueNanoseconds: value, intervalNanoseconds: interval))
        }
        XCTAssertEqual(armed(100_000_000_000, 5_000_000_000), "100 s, every 5 s")
        XCTAssertEqual(armed(200_000_000_000, 0), "200 s, one-shot")
        XCTAssertEqual(armed(0, 0), "disarmed")
        XCTAssertEqual(armed(nil, nil), "not dumped")
        XCTAssertEqual(armed(0, 1_000_000), "0 s left, every 1 ms")
        XCTAssertEqual(armed(1_500, nil), "1.5 µs")
    }
}
