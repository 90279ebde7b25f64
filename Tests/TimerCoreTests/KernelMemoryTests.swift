import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// Node counts of the xarray and the 2.6 IDR against cases worked out by hand
/// from lib/xarray.c and 2.6's lib/idr.c (64 slots a node; a node at level l
/// covers the IDs sharing `id >> (6l + 6)`), the kernel's hashes, and the
/// byte totals of `memory` (docs/memory.md).
final class KernelMemoryTests: XCTestCase {
    func xarray(_ ids: [Int32]) -> Int { RadixIndex.xarrayNodes(sortedIDs: RadixIndex.sortedDistinct(ids)) }
    func idr(_ ids: [Int32]) -> Int { RadixIndex.idrLayers(sortedIDs: RadixIndex.sortedDistinct(ids)) }
    func height(_ ids: [Int32]) -> Int { RadixIndex.xarrayHeight(sortedIDs: RadixIndex.sortedDistinct(ids)) }

    /// {0} alone: xas_expand() sees an empty head and max index 0 and returns
    /// shift 0, so xas_create() stores the entry in xa_head itself: 0 nodes,
    /// height 0. The 2.6 IDR always takes a leaf layer for its first ID: 1.
    func testZeroAlone() {
        XCTAssertEqual(xarray([0]), 0)
        XCTAssertEqual(height([0]), 0)
        XCTAssertEqual(idr([0]), 1)
        XCTAssertEqual(xarray([]), 0)
        XCTAssertEqual(idr([]), 0)
    }

    /// {0, 1}: the highest index 1 needs one level (1 < 64): one node whose
    /// slots 0 and 1 hold the entries. Same for the IDR.
    func testZeroAndOne() {
        XCTAssertEqual(xarray([0, 1]), 1)
        XCTAssertEqual(height([0, 1]), 1)
        XCTAssertEqual(idr([1, 0]), 1)
    }

    /// {0, INT_MAX}: 2^30 <= INT_MAX < 2^36, so 6 levels (shifts 0 ... 30).
    /// Level by level, the blocks of 0 and of INT_MAX:
    ///   shift 0  (id >> 6):  0 and 33554431  -> 2 nodes
    ///   shift 6  (id >> 12): 0 and 524287    -> 2
    ///   shift 12 (id >> 18): 0 and 8191      -> 2
    ///   shift 18 (id >> 24): 0 and 127       -> 2
    ///   shift 24 (id >> 30): 0 and 1         -> 2
    ///   shift 30 (id >> 36): 0 and 0         -> 1 (the root)
    /// = 11 nodes: the left spine xas_expand() builds above the old head (6)
    /// plus the 5 xas_create() allocates down to INT_MAX.
    func testZeroAndIntMax() {
        XCTAssertEqual(xarray([0, Int32.max]), 11)
        XCTAssertEqual(height([0, Int32.max]), 6)
        XCTAssertEqual(idr([0, Int32.max]), 11)
    }

    /// 64 dense IDs 0 ... 63 fill exactly one node (63 < 64): 1 node.
    /// 65 dense IDs 0 ... 64: 64 needs a second level. Leaves: 0 ... 63 in
    /// block 0, 64 in block 1 (2 nodes), plus the root above them = 3.
    func testSixtyFourAndSixtyFiveDense() {
        XCTAssertEqual(xarray(Array(0..<64)), 1)
        XCTAssertEqual(height(Array(0..<64)), 1)
        XCTAssertEqual(xarray(Array(0..<65)), 3)
        XCTAssertEqual(height(Array(0..<65)), 2)
        XCTAssertEqual(idr(Array(0..<65)), 3)
    }

    /// A lone entry at a non-zero index is not in xa_head: xas_expand() on an
    /// empty head returns the shift of a top node tall enough for it, and
    /// xas_create() allocates one node per level on the way down.
    func testLoneEntryAtNonZeroIndex() {
        XCTAssertEqual(xarray([1]), 1)
        XCTAssertEqual(xarray([63]), 1)
        XCTAssertEqual(xarray([64]), 2)
        XCTAssertEqual(xarray([4096]), 3)
        XCTAssertEqual(xarray([Int32.max]), 6)
    }

    /// The CRIU fixture's IDs 0, 7, 99, 123456, INT_MAX (6 levels):
    /// shift 0: blocks 0, 1, 1929, 33554431 -> 4; shift 6: 0, 30, 524287 -> 3;
    /// shift 12: 0, 8191 -> 2; shift 18: 0, 127 -> 2; shift 24: 0, 1 -> 2;
    /// root 1: 14 nodes.
    func testCRIUFixtureIDs() {
        XCTAssertEqual(xarray([Int32.max, 123_456, 99, 7, 0]), 14)
        XCTAssertEqual(idr([0, 7, 99, 123_456, Int32.max]), 14)
    }

    /// Duplicates (a tree's processes sharing an ID on the one 2.6 IDR) count once.
    func testSortedDistinct() {
        XCTAssertEqual(RadixIndex.sortedDistinct([5, 1, 5, 0, 1]), [0, 1, 5])
    }

    /// hash_32(hash32_ptr(sig) ^ id, 9), by hand with sig = 0 and id = 1:
    /// 0x9e370001 >> 23 = 316 (3.10's GOLDEN_RATIO_PRIME_32) and
    /// 0x61c88647 >> 23 = 195 (4.7+'s GOLDEN_RATIO_32).
    func testHash32ByHand() {
        XCTAssertEqual(TimerHash.hash32Pointer(0xffff_8881_0000_0001), 0xffff_8881 ^ 0x0000_0001)
        let old = TimerHashFunction.hash32(multiplier: TimerHashFunction.goldenRatioPrime32, bits: 9)
        let new = TimerHashFunction.hash32(multiplier: TimerHashFunction.goldenRatio32, bits: 9)
        XCTAssertEqual(old.bucket(signalStruct: 0, id: 1), 316)
        XCTAssertEqual(new.bucket(signalStruct: 0, id: 1), 195)
        XCTAssertEqual(old.bucketCount, 512)
    }

    /// 6.15's table: roundup_pow_of_two(512 x possible CPUs) buckets, this
    /// host's boot log says 1024 for 2 CPUs. jhash2 spreads 1024 dense IDs
    /// of one process like a random function (about 63% of the buckets used,
    /// short chains); a broken mix would pile them up.
    func testJhash2Table() {
        XCTAssertEqual(TimerHashFunction.jhash2Buckets(possibleCPUs: 2), 1024)
        XCTAssertEqual(TimerHashFunction.jhash2Buckets(possibleCPUs: 3), 2048)
        let hash = TimerHashFunction.jhash2(buckets: 1024)
        let chains = HashChains.of(ids: Array(0..<1024), hash: hash, signalStruct: KernelMemory.defaultSignalStruct)
        XCTAssertGreaterThan(chains.usedBuckets, 560)
        XCTAssertLessThan(chains.usedBuckets, 740)
        XCTAssertLessThanOrEqual(chains.longest, 8)
        // Another signal_struct puts the same IDs elsewhere.
        XCTAssertNotEqual((0..<64).map { hash.bucket(signalStruct: KernelMemory.defaultSignalStruct, id: $0) },
                          (0..<64).map { hash.bucket(signalStruct: KernelMemory.defaultSignalStruct + 1152, id: $0) })
        // An empty word list returns the initial value untouched (jhash2 case 0).
        XCTAssertEqual(TimerHash.jhash2([], initval: 5), 0xdead_beef &+ 5)
    }

    static let kernels = [
        KernelMemory.Kernel(name: "a", model: KernelMemoryModel(index: .globalHash, separateSigqueue: true,
                                                                hash: .hash32(multiplier: TimerHashFunction.goldenRatio32, bits: 9))),
        KernelMemory.Kernel(name: "b", model: KernelMemoryModel(index: .globalHash, separateSigqueue: false,
                                                                hash: .jhash2(buckets: 1024))),
        KernelMemory.Kernel(name: "c", model: KernelMemoryModel(index: .perProcessXArray, separateSigqueue: true)),
        KernelMemory.Kernel(name: "d", model: KernelMemoryModel(index: .globalIDR, separateSigqueue: true)),
        KernelMemory.Kernel(name: "e", model: KernelMemoryModel(index: .globalHash, separateSigqueue: true,
                                                                hash: .hash32(multiplier: TimerHashFunction.goldenRatioPrime32, bits: 9))),
    ]

    /// Bytes of {0, INT_MAX}: timers 2 x (384 + 80) = 928 where the sigqueue is
    /// separate, 768 where embedded; the xarray adds 11 x 576 = 6336, the IDR
    /// 11 x 544 = 5984. Dense {0, 1}: one node (576 / 544).
    func testEstimateRowsAndJSON() {
        let memory = KernelMemory.estimate(processes: [[0, Int32.max]], kernels: Self.kernels, sizes: .documented)
        XCTAssertEqual(memory.rows.map(\.design), [.globalHash, .globalHash, .perProcessXArray, .globalIDR])
        XCTAssertEqual(memory.rows.map(\.kernels), [["a", "e"], ["b"], ["c"], ["d"]])
        XCTAssertEqual(memory.rows.map(\.timerBytes), [928, 768, 928, 928])
        XCTAssertEqual(memory.rows.map(\.indexNodes), [0, 0, 11, 11])
        XCTAssertEqual(memory.rows.map(\.totalBytes), [928, 768, 928 + 6336, 928 + 5984])
        XCTAssertEqual(memory.rows.map(\.denseTotalBytes), [928, 768, 928 + 576, 928 + 544])
        XCTAssertEqual(memory.rows[2].ratioToDense, Double(7264) / Double(1504), accuracy: 1e-9)
        XCTAssertEqual(memory.json(), """
            {"timers": 2, "designs": [
              {"design": "global-hash", "kernels": ["a", "e"], "timer_bytes": 928, "index_nodes": 0, "index_bytes": 0, "total_bytes": 928},
              {"design": "global-hash", "kernels": ["b"], "timer_bytes": 768, "index_nodes": 0, "index_bytes": 0, "total_bytes": 768},
              {"design": "per-process-xarray", "kernels": ["c"], "timer_bytes": 928, "index_nodes": 11, "index_bytes": 6336, "total_bytes": 7264},
              {"design": "global-idr", "kernels": ["d"], "timer_bytes": 928, "index_nodes": 11, "index_bytes": 5984, "total_bytes": 6912}
            ]}

            """)
        XCTAssertEqual(memory.lookups.map(\.treeHeight), [0, 0, 6, 6, 0])
        XCTAssertEqual(memory.lookups[0].chains?.longest, 1)
        XCTAssertEqual(KernelMemory.totalBytes(processes: [[0, Int32.max]], model: Self.kernels[2].model,
                                               sizes: .documented), 7264)
    }

    /// A tree: an xarray per process, but one IDR for the machine. Two
    /// processes with {0, 64}: xarray 2 x 3 nodes; the IDR holds 0 and 64 once: 3.
    func testTreeIndexes() {
        let memory = KernelMemory.estimate(processes: [[0, 64], [64, 0]], kernels: Self.kernels, sizes: .documented)
        XCTAssertEqual(memory.timers, 4)
        XCTAssertEqual(memory.rows.first { $0.design == .perProcessXArray }?.indexNodes, 6)
        XCTAssertEqual(memory.rows.first { $0.design == .globalIDR }?.indexNodes, 3)
    }

    /// The worst case one user makes: 96,365 timers at stride 22,284 (the
    /// last at 2,147,397,659). Every ID has a leaf of its own (stride > 64)
    /// and a shift-6 node of its own (stride > 4096): 96,365 + 96,365; the
    /// 8,192 blocks of 2^18 IDs are all hit (stride < 2^18): 8,192; then 128,
    /// 2 and the root: 201,053 nodes.
    func testSweepWorstCase() {
        let sweep = MemorySweep.run(timers: 10_000, kernels: Self.kernels, sizes: .documented, userLimit: 96_365)
        XCTAssertEqual(sweep.points.first?.stride, 1)
        XCTAssertEqual(sweep.points.last?.stride, 214_748)
        XCTAssertEqual(sweep.points.last?.maxID, 2_147_479_999)
        XCTAssertEqual(sweep.worstCase.stride, 22_284)
        let xarrayRow = sweep.worstCase.memory.rows.firstIndex { $0.design == .perProcessXArray }!
        XCTAssertEqual(sweep.worstRow(xarrayRow).indexNodes, 201_053)
        // global-hash: flat at every stride; the IDR's worst case is its dense one.
        for point in sweep.points { XCTAssertEqual(point.memory.rows[0].bytesPerTimer, 464) }
        let idrRow = sweep.worstCase.memory.rows.firstIndex { $0.design == .globalIDR }!
        XCTAssertEqual(sweep.worstRow(idrRow).totalBytes, sweep.worstCase.dense.rows[idrRow].totalBytes)
        XCTAssertEqual(sweep.worstCase.nodesPerLoneTimerAtIntMax, 6)
        XCTAssertTrue(sweep.svg().contains("worst case per user"))
    }
}
