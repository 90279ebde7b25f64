import Foundation
import TestSupport
import XCTest
import HostKernel
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// `timer-criu inspect` as a user runs it: the built binary, its output and
/// exit code, on the CRIU fixture and on corrupted copies of it.
final class CRIUInspectCommandTests: XCTestCase {
    func run(_ arguments: [String]) throws -> CommandResult {
        do {
            _ = try BuiltProducts.path("timer-criu")
        } catch {
            throw XCTSkip("\(error)")
        }
        return try runTimerCRIU(arguments)
    }

    func testTableOfTheFixture() throws {
        let result = try run(["inspect", CRIUFixture.directory])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let checkpoint = try CheckpointSource.load(path: CRIUFixture.directory)
        XCTAssertEqual(result.stdoutText,
                       CheckpointTable.render(checkpoint, title: "CRIU image directory \(CRIUFixture.directory)"))
        XCTAssertTrue(result.stdoutText.contains("97.576 s, every 5 s"))
    }

    /// `--json` is the timer-criu/1 form: valid against the schema, and read
    /// back by the JSON loader as the same checkpoint.
    func testJSONOfTheFixture() throws {
        let result = try run(["inspect", CRIUFixture.directory + "/core-10177.img", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let bytes = [UInt8](result.stdout)
        let checkpoint = try CheckpointSource.load(path: CRIUFixture.directory)
        XCTAssertEqual(bytes, checkpoint.jsonBytes())
        XCTAssertEqual(try Checkpoint(json: bytes, path: "stdout"), checkpoint)

        let schemaPath = BuiltProducts.repositoryRoot + "/docs/timer-criu-2.schema.json"
        guard let schemaBytes = FileManager.default.contents(atPath: schemaPath) else {
            throw XCTSkip("no \(schemaPath)")
        }
        let validator = JSONSchemaValidator(schema: try JSONValue.parse([UInt8](schemaBytes)))
        XCTAssertEqual(validator.validate(try JSONValue.parse(bytes)), [])
    }

    /// A bad image: one line on stderr naming file and byte, nothing on stdout, exit 2.
    func testCorruptedImageExitsTwo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("criu-inspect-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var core = try CRIUFixture.bytes("core-10177.img")
        core.replaceSubrange(1212..<1223, with: [UInt8](repeating: 0xff, count: 11))
        try Data(core).write(to: URL(fileURLWithPath: directory + "/core-10177.img"))
        try Data(CRIUFixture.bytes("pstree.img")).write(to: URL(fileURLWithPath: directory + "/pstree.img"))

        for arguments in [["inspect", directory], ["inspect", directory, "--json"]] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 2)
            XCTAssertEqual(result.stdoutText, "")
            XCTAssertEqual(result.stderrLines, ["timer-criu: \(directory)/core-10177.img: byte 1212: varint longer than 10 bytes"])
        }

        try FileManager.default.removeItem(atPath: directory + "/core-10177.img")
        let missing = try run(["inspect", directory])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderrLines, ["timer-criu: \(directory)/core-10177.img: missing core file"])
    }

    func testUsageErrorExits64() throws {
        let result = try run(["inspect"])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(result.stdoutText, "")
    }
}
