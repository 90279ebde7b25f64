import ModelKernel
import TimerCore
import TimerComparison
import XCTest

/// Each profile's ID index, sigqueue and hash (docs/memory.md): the design
/// -> profile mapping `memory` and `compare` read.
final class MemoryModelTests: XCTestCase {
    func testDesignOfEachProfile() {
        let designs = Dictionary(uniqueKeysWithValues: KernelProfile.allCases.map { ($0, $0.memoryModel().index) })
        XCTAssertEqual(designs, [.linux26: .globalIDR, .linux310: .globalHash, .linux615: .globalHash,
                                 .rfdCursor: .globalHash, .rfdDense: .perProcessXArray])
    }

    /// Only 6.13+ embeds the sigqueue; only hash kernels have a hash.
    func testSigqueueAndHash() {
        for profile in KernelProfile.allCases {
            let model = profile.memoryModel()
            XCTAssertEqual(model.separateSigqueue, profile != .linux615, profile.rawValue)
            XCTAssertEqual(model.hash != nil, model.index == .globalHash, profile.rawValue)
        }
        XCTAssertEqual(KernelProfile.linux310.memoryModel().hash,
                       .hash32(multiplier: TimerHashFunction.goldenRatioPrime32, bits: 9))
        XCTAssertEqual(KernelProfile.rfdCursor.memoryModel().hash,
                       .hash32(multiplier: TimerHashFunction.goldenRatio32, bits: 9))
        XCTAssertEqual(KernelProfile.linux615.memoryModel(possibleCPUs: 8).hash, .jhash2(buckets: 4096))
    }
}
