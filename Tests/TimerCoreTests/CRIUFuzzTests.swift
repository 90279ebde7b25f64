import XCTest
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// SplitMix64: a small seeded generator, so a failing case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Corrupted copies of the fixture: the reader either decodes them or throws
/// one CheckpointError naming the file; it never traps (a trap would crash
/// this test process, which is the failure this test exists to catch).
final class CRIUFuzzTests: XCTestCase {
    static let iterations = 20_000

    enum Mutation: CaseIterable { case flipBit, setByte, truncate, insert, delete, duplicate, setLengthByte }

    func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let mutation = Mutation.allCases.randomElement(using: &rng)!
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
        switch mutation {
        case .flipBit:
            guard !bytes.isEmpty else { return "flip on empty" }
            let bit = UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            bytes[position] ^= bit
            return "flip \(bit) at \(position)"
        case .setByte:
            guard !bytes.isEmpty else { return "set on empty" }
            // Bytes that matter to varints and keys more often than uniform ones.
            let value = [0x00, 0x01, 0x7f, 0x80, 0xff, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
            bytes[position] = value
            return "set \(value) at \(position)"
        case .truncate:
            bytes.removeSubrange(position...)
            return "truncate at \(position)"
        case .insert:
            let count = Int.random(in: 1...12, using: &rng)
            let inserted = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            bytes.insert(contentsOf: inserted, at: min(position, bytes.count))
            return "insert \(count) at \(position)"
        case .delete:
            guard !bytes.isEmpty else { return "delete on empty" }
            let end = min(bytes.count, position + Int.random(in: 1...16, using: &rng))
            bytes.removeSubrange(position..<end)
            return "delete \(position)..<\(end)"
        case .duplicate:
            guard !bytes.isEmpty else { return "duplicate on empty" }
            let end = min(bytes.count, position + Int.random(in: 1...40, using: &rng))
            bytes.insert(contentsOf: bytes[position..<end], at: end)
            return "duplicate \(position)..<\(end)"
        case .setLengthByte:
            // The entry length (bytes 8-11) and the timers' region of the leader core.
            guard bytes.count > 12 else { return "length on short" }
            let target = Bool.random(using: &rng) ? Int.random(in: 8..<12, using: &rng) : min(bytes.count - 1, 1150 + position % 210)
            bytes[target] = UInt8.random(in: 0...255, using: &rng)
            return "set length-ish byte \(target)"
        }
    }

    func testCorruptedFixturesDecodeOrThrowNeverTrap() throws {
        let original = try CRIUFixture.images()
        let names = ["core-10177.img", "core-10177.img", "core-10177.img", "pstree.img", "core-10179.img"]
        var rng = SplitMix64(seed: 0x5EED_C41A)
        var decoded = 0, refused = 0, byteErrors = 0
        for iteration in 0..<Self.iterations {
            var files = original
            var applied: [String] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let name = names.randomElement(using: &rng)!
                applied.append("\(name): " + mutate(&files[name]!, &rng))
            }
            do {
                let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "fuzz", files: files, pid: nil)
                decoded += 1
                // What decodes is still a well-formed checkpoint.
                XCTAssertEqual(Set(checkpoint.timers.map(\.id)).count, checkpoint.timers.count, "iteration \(iteration): \(applied)")
                XCTAssertEqual(checkpoint.timers.map(\.id), checkpoint.timers.map(\.id).sorted())
                for timer in checkpoint.timers {
                    XCTAssertGreaterThanOrEqual(timer.id, 0)
                    XCTAssertGreaterThanOrEqual(timer.valueNanoseconds ?? 0, 0)
                    XCTAssertGreaterThanOrEqual(timer.intervalNanoseconds ?? 0, 0)
                }
                XCTAssertEqual(checkpoint.threads.first, checkpoint.pid)
                // ... and one the timer-criu/1 reader takes back unchanged.
                XCTAssertEqual(try? Checkpoint(json: checkpoint.jsonBytes(), path: "fuzz.json"), checkpoint,
                               "iteration \(iteration): \(applied)")
            } catch {
                refused += 1
                let text = error.description
                XCTAssertTrue(text.hasPrefix("fuzz"), "iteration \(iteration): \(applied): \(text)")
                XCTAssertFalse(text.contains("\n"), "one line: \(text)")
                if text.contains(": byte ") { byteErrors += 1 }
            }
        }
        print("CRIU fuzz: \(Self.iterations) corrupted checkpoints: \(decoded) decoded, \(refused) refused (\(byteErrors) naming a byte)")
        // Both outcomes happen: corruption in skipped fields (registers,
        // sigactions) decodes, corruption in framing and timers is refused.
        XCTAssertGreaterThan(decoded, Self.iterations / 20, "decoded \(decoded), refused \(refused)")
        XCTAssertGreaterThan(refused, Self.iterations / 4, "decoded \(decoded), refused \(refused)")
        XCTAssertGreaterThan(byteErrors, refused / 2, "most refusals point at a byte")
    }

    /// Every prefix of the leader's core image: each one is refused cleanly.
    func testEveryTruncationIsRefused() throws {
        let original = try CRIUFixture.images()
        let core = original["core-10177.img"]!
        for length in 0..<core.count {
            var files = original
            files["core-10177.img"] = Array(core.prefix(length))
            XCTAssertThrowsError(try CRIUCheckpointReader.checkpoint(directory: "fuzz", files: files, pid: nil),
                                 "prefix of \(length) bytes")
        }
    }

    /// Every byte of the timers region set to each of a few telling values.
    func testEveryByteOfTheTimersRegion() throws {
        let original = try CRIUFixture.images()
        for position in 1150..<1352 {
            for value: UInt8 in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                var files = original
                files["core-10177.img"]![position] = value
                do {
                    _ = try CRIUCheckpointReader.checkpoint(directory: "fuzz", files: files, pid: nil)
                } catch {
                    XCTAssertTrue(error.description.hasPrefix("fuzz/core-10177.img: byte "), "\(position)=\(value): \(error)")
                }
            }
        }
    }
}
