import Foundation
import HostKernel
import ModelKernel
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// The measured answer to "the global hashtable is the same size anyway":
/// 10,000 timers at dense IDs and 10,000 at stride 200,000 (create-at-ID),
/// each in a timer-fixture, grow the posix_timers_cache slab by the same
/// ~10,000 objects, as `memory`'s global-hash model says (docs/memory.md).
///
/// Run it under `flock /work/timers.lock` (20,000 timers of root's shared
/// RLIMIT_SIGPENDING). Robust to other processes making timers meanwhile:
/// the growth is read as `objects` after minus before, and
/// - SLUB counts the free objects of per-CPU slabs as in use, so a growth can
///   fall short of 10,000 by up to a few slabs: lower bound
///   10,000 - objs_per_slab x (possible CPUs + 1);
/// - other processes' timers can add to it: upper bound 10,000 + 1,000 +
///   that slack;
/// an attempt outside the band is retried (3 attempts), so a burst of
/// someone else's timers does not fail the test.
final class SlabMemoryTests: XCTestCase {
    static let timers = 10_000
    static let sparseStride: Int32 = 200_000
    var fixtures: [FixtureProcess] = []

    override func tearDown() {
        for fixture in fixtures { fixture.stop() }
        fixtures = []
        super.tearDown()
    }

    func testDenseAndSparseIDsGrowThePosixTimersSlabAlike() throws {
        guard SlabInfo.objects("posix_timers_cache") != nil else {
            throw XCTSkip("\(SlabInfo.root)/posix_timers_cache/objects is not readable here")
        }
        guard HostFeatures.createAtID().ok else {
            throw XCTSkip("sparse IDs need create-at-ID: \(HostFeatures.createAtID().detail)")
        }
        let free = HostFeatures.sigpending(status: HostFeatures.readStatus()).values.first { $0.key == "free" }?.value
        if let free, free < Int64(Self.timers + 1_000) {
            throw XCTSkip("RLIMIT_SIGPENDING has \(free) timers left for this user; the test needs \(Self.timers + 1_000)")
        }
        let perSlab = SlabInfo.objectsPerSlab("posix_timers_cache") ?? 64
        let slack = perSlab * ((SlabInfo.possibleCPUs() ?? 2) + 1)
        let band = (Self.timers - slack)...(Self.timers + 1_000 + slack)

        let dense = try measure(["id=0,count=\(Self.timers)"], band: band)
        let sparse = try measure((0..<Int32(Self.timers)).map { "id=\($0 * Self.sparseStride)" }, band: band)
        print("posix_timers_cache objects: dense \(dense.before) -> \(dense.after) (+\(dense.growth)), "
            + "sparse \(sparse.before) -> \(sparse.after) (+\(sparse.growth)); "
            + "sigqueue +\(dense.sigqueueGrowth.map(String.init) ?? "?") dense, "
            + "+\(sparse.sigqueueGrowth.map(String.init) ?? "?") sparse; band \(band), \(perSlab) objects per slab")
        XCTAssertTrue(band.contains(dense.growth), "dense: +\(dense.growth) outside \(band)")
        XCTAssertTrue(band.contains(sparse.growth), "sparse: +\(sparse.growth) outside \(band)")

        // The model's verdict for this kernel: global hash, IDs cost nothing.
        let model = KernelProfile.linux615.memoryModel()
        XCTAssertEqual(model.index, .globalHash)
        let sizes = SlabInfo.timerObjectSizes()
        let modelled = KernelMemory.totalBytes(processes: [(0..<Int32(Self.timers)).map { $0 * Self.sparseStride }],
                                               model: model, sizes: sizes)
        XCTAssertEqual(modelled, Self.timers * sizes.kItimer, "sparse IDs add nothing under the global hash")
        XCTAssertLessThanOrEqual(abs(dense.growth - sparse.growth), 1_000 + 2 * slack,
                                 "dense and sparse IDs grow the slab alike")

        // 6.13+ embeds the sigqueue in the k_itimer: its slab must not grow per timer.
        if let growth = dense.sigqueueGrowth, let embedded = Self.embedsSigqueue(HostKernel.release) {
            if embedded {
                XCTAssertLessThan(growth, Self.timers / 2, "sigqueue grew by \(growth) on \(HostKernel.release)")
                XCTAssertFalse(model.separateSigqueue)
            } else {
                XCTAssertGreaterThanOrEqual(growth, Self.timers - slack)
            }
        }
    }

    struct Growth {
        var before: Int, after: Int
        var sigqueueGrowth: Int?
        var growth: Int { after - before }
    }

    /// Slab objects before and while a fixture holds these timers; retried
    /// when the growth falls outside `band` (someone else's timers).
    func measure(_ specs: [String], band: ClosedRange<Int>) throws -> Growth {
        var last: Growth?
        for _ in 0..<3 {
            let before = try XCTUnwrap(SlabInfo.objects("posix_timers_cache"))
            let sigqueueBefore = SlabInfo.objects("sigqueue")
            let fixture = try FixtureProcess(["--threads", "0"] + specs.map { $0 + ",notify=none,signal=0" }, timeout: 60)
            fixtures.append(fixture)
            let after = try XCTUnwrap(SlabInfo.objects("posix_timers_cache"))
            let sigqueueAfter = SlabInfo.objects("sigqueue")
            // The fixture really holds the timers asked for (its /proc/PID/timers).
            let listed = String(decoding: try ProcFS.readTimers(pid: fixture.pid), as: UTF8.self)
                .split(separator: "\n").filter { $0.hasPrefix("ID: ") }
            XCTAssertEqual(listed.count, Self.timers)
            if specs.count > 1 {
                let ids = Set(listed.compactMap { Int32($0.dropFirst(4)) })
                XCTAssertEqual(ids, Set((0..<Int32(Self.timers)).map { $0 * Self.sparseStride }))
            }
            fixture.stop()
            let growth = Growth(before: before, after: after,
                                sigqueueGrowth: sigqueueBefore.flatMap { b in sigqueueAfter.map { $0 - b } })
            if band.contains(growth.growth) { return growth }
            last = growth
        }
        return try XCTUnwrap(last)
    }

    /// Whether a release string names a 6.13+ kernel; nil when unparsable.
    static func embedsSigqueue(_ release: String) -> Bool? {
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        return parts[0] > 6 || (parts[0] == 6 && parts[1] >= 13)
    }
}
