import XCTest
import Foundation
import TestSupport
import HostKernel
import TimerCore
import TimerComparison

/// `timer-criu compare DIR` and `inspect DIR` on a tree directory written by
/// CheckpointTreeWriter (the same writer `dump --tree` uses), as a user runs them.
final class CompareTreeTests: XCTestCase {
    var directory = ""
    var treeDir = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "compare-tree-tests-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        treeDir = directory + "/tree"
        let tree = CompareTreeMatrixTests.tree()
        try CheckpointTreeWriter.write(index: tree.index, checkpoints: tree.checkpoints, to: treeDir)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func object(_ data: Data) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testCompareTreeTable() throws {
        let result = try runTimerCRIU(["compare", treeDir])
        XCTAssertEqual(result.status, 0, result.stderr)
        let text = result.stdoutText
        XCTAssertTrue(text.hasPrefix("tree \(treeDir): 3 process(es), root 100, 4 timer(s), highest ID 5\n"), text)
        let lines = text.split(separator: "\n").map(String.init)
        func line(_ kernel: String, _ strategy: String) -> [String] {
            lines.first { $0.hasPrefix(kernel + " ") && $0.split(separator: " ")[1] == strategy }!
                .split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        // KERNEL STRATEGY RUN CREATE DELETE SETTIME PRCTL SYSCTL ...
        XCTAssertEqual(Array(line("linux-3.10", "dance")[3...7]), ["11", "7", "0", "0", "0"])
        XCTAssertEqual(Array(line("linux-6.15", "create-at-id")[3...7]), ["4", "0", "0", "6", "0"])
        XCTAssertEqual(Array(line("linux-2.6", "dance")[3...7]), ["3", "2", "0", "0", "0"])
        XCTAssertTrue(lines.contains { $0.hasPrefix("linux-6.15") && $0.contains("create-at-id")
                && $0.hasSuffix("verified (3 processes)") }, text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("linux-2.6") && $0.contains(" dance ")
                && $0.hasSuffix("process 200: IDs reused: dance to ID 0: got ID 1 where 0 was next (one ID space: see note)") },
                      text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("linux-2.6") && $0.contains("create-at-id")
                && $0.hasSuffix("process 100: no create-at-ID: prctl EINVAL (one ID space: see note)") }, text)
        XCTAssertTrue(lines.contains("note (linux-2.6): one ID space for all processes: 1 timer ID(s) were held by "
            + "more than one process of the tree, and only one process can have each: ID 0 (processes 100, 200)"), text)
    }

    func testCompareTreeJSONAndSVG() throws {
        let svg = directory + "/tree.svg"
        let result = try runTimerCRIU(["compare", treeDir, "--json", "--svg", svg])
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try object(result.stdout)
        XCTAssertEqual((document["tree"] as? [String: Any])?["root"] as? Int, 100)
        XCTAssertEqual((document["tree"] as? [String: Any])?["processes"] as? Int, 3)
        let rows = try XCTUnwrap(document["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 15)
        let dance26 = try XCTUnwrap(rows.first { $0["kernel"] as? String == "linux-2.6" && $0["strategy"] as? String == "dance" })
        XCTAssertEqual(dance26["ok"] as? Bool, false)
        XCTAssertEqual(dance26["failed_pid"] as? Int, 200)
        XCTAssertEqual((dance26["notes"] as? [String])?.count, 1)
        let processes = try XCTUnwrap(dance26["processes"] as? [[String: Any]])
        XCTAssertEqual(processes.map { $0["pid"] as? Int }, [100, 200, 300])
        XCTAssertEqual(processes.map { $0["ppid"] as? Int }, [1, 100, 100])
        XCTAssertEqual(processes.map { $0["ok"] as? Bool }, [true, false, false])
        let createAtID = try XCTUnwrap(rows.first { $0["kernel"] as? String == "linux-6.15" && $0["strategy"] as? String == "create-at-id" })
        XCTAssertEqual(createAtID["outcome"] as? String, "verified (3 processes)")
        XCTAssertEqual((createAtID["syscalls"] as? [String: Any])?["total"] as? Int, 10)
        let perProcess = try XCTUnwrap(createAtID["processes"] as? [[String: Any]])
        XCTAssertEqual(perProcess.map { ($0["syscalls"] as? [String: Any])?["timer_create"] as? Int }, [1, 2, 1])
        XCTAssertEqual(perProcess.map { $0["outcome"] as? String }, ["verified", "verified", "verified"])
        XCTAssertEqual(createAtID["notes"] as? [String], [])
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(picture.hasPrefix("<svg") || picture.hasPrefix("<?xml"), String(picture.prefix(80)))
        XCTAssertTrue(picture.contains("tree \(treeDir)"))
    }

    func testInspectTree() throws {
        let result = try runTimerCRIU(["inspect", treeDir])
        XCTAssertEqual(result.status, 0, result.stderr)
        let text = result.stdoutText
        XCTAssertTrue(text.hasPrefix("timer-criu-tree/1 directory \(treeDir): root 100, 3 process(es), 4 timer(s)\n"), text)
        let titles = text.split(separator: "\n").filter { $0.hasPrefix("process ") }
        XCTAssertEqual(titles, [
            "process 100 (parent 1): pid 100, threads [100], kernel 6.18.44, 1 timer",
            "process 200 (parent 100): pid 200, threads [200, 201], kernel 6.18.44, 2 timers",
            "process 300 (parent 100): pid 300, threads [300], kernel 6.18.44, 1 timer",
        ])
        XCTAssertTrue(text.contains("thread_id -> tid 201"), text)

        let json = try runTimerCRIU(["inspect", "--json", treeDir])
        XCTAssertEqual(json.status, 0, json.stderr)
        let document = try object(json.stdout)
        XCTAssertEqual(document["format"] as? String, "timer-criu-tree/1")
        XCTAssertEqual(document["root"] as? Int, 100)
        let processes = try XCTUnwrap(document["processes"] as? [[String: Any]])
        XCTAssertEqual(processes.map { $0["pid"] as? Int }, [100, 200, 300])
        XCTAssertEqual(processes.map { $0["file"] as? String }, ["100.json", "200.json", "300.json"])
        // Each checkpoint inside reads back as the file it came from.
        for (i, process) in processes.enumerated() {
            let inner = try JSONSerialization.data(withJSONObject: try XCTUnwrap(process["checkpoint"]))
            let checkpoint = try Checkpoint(json: Array(inner))
            XCTAssertEqual(checkpoint, CompareTreeMatrixTests.tree().checkpoints[i])
        }
    }

    /// A tree directory that cannot be loaded: one line naming the problem, exit 2, for both commands.
    func testBadTreeDirectories() throws {
        let noIndex = directory + "/noindex"
        try FileManager.default.createDirectory(atPath: noIndex, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: treeDir + "/100.json", toPath: noIndex + "/100.json")
        try FileManager.default.removeItem(atPath: treeDir + "/300.json")
        let cases = [
            (noIndex, "timer-criu: \(noIndex)/index.json: missing: a timer-criu-tree/1 directory needs an index (docs/trees.md)"),
            (treeDir, "timer-criu: \(treeDir)/index.json: process 300: its checkpoint 300.json does not exist"),
        ]
        for (dir, message) in cases {
            for arguments in [["compare", dir], ["compare", dir, "--json"], ["inspect", dir], ["inspect", "--json", dir]] {
                let result = try runTimerCRIU(arguments)
                XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
                XCTAssertEqual(result.stderrLines, [message], "\(arguments)")
                XCTAssertTrue(result.stdout.isEmpty, "\(arguments)")
            }
        }
    }
}
