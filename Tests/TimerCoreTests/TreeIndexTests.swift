import Foundation
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// The `timer-criu-tree/1` index, the tree loader and the atomic directory
/// writer (docs/trees.md), on files only.
final class TreeIndexTests: XCTestCase {
    var cleanups: [() -> Void] = []
    override func tearDown() {
        for cleanup in cleanups.reversed() { cleanup() }
        cleanups = []
    }

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tc-tree-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        cleanups.append { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func checkpoint(_ pid: Int32, ids: [Int32]) -> Checkpoint {
        Checkpoint(pid: pid, kernel: "6.18.0", threads: [pid], timers: ids.map {
            CheckpointTimer(id: $0, clockID: ClockID(1), signal: 14, sigevValue: 0, notify: .signal, notifyTarget: pid)
        })
    }

    func entries(_ list: [(Int32, Int32)]) -> [CheckpointTreeEntry] {
        list.map { CheckpointTreeEntry(pid: $0.0, ppid: $0.1, file: "\($0.0).json") }
    }

    func testParentsFirstIsPreorderWithChildrenByPID() {
        // 10 -> 30, 20; 20 -> 25; 30 -> 5; 99 is not below 10.
        let list = entries([(30, 10), (25, 20), (10, 1), (20, 10), (5, 30), (99, 1)])
        XCTAssertEqual(CheckpointTreeIndex.parentsFirst(root: 10, list).map(\.pid), [10, 20, 25, 30, 5])
    }

    func testIndexJSONRoundTrip() throws {
        let index = CheckpointTreeIndex(root: 10, processes: entries([(10, 1), (20, 10), (21, 20)]))
        let text = String(decoding: index.jsonBytes(), as: UTF8.self)
        XCTAssertEqual(text, """
            {
              "format": "timer-criu-tree/1",
              "root": 10,
              "processes": [
                {"pid": 10, "ppid": 1, "file": "10.json"},
                {"pid": 20, "ppid": 10, "file": "20.json"},
                {"pid": 21, "ppid": 20, "file": "21.json"}
              ]
            }

            """)
        XCTAssertEqual(try CheckpointTreeIndex(json: index.jsonBytes()), index)
    }

    /// Each refusal is one line naming the field.
    func testIndexRefusals() {
        func refusal(_ json: String) -> String {
            do {
                _ = try CheckpointTreeIndex(json: Array(json.utf8), path: "t/index.json")
                return "accepted"
            } catch { return error.description }
        }
        let p = #""processes": [{"pid": 10, "ppid": 1, "file": "10.json"}, {"pid": 11, "ppid": 10, "file": "11.json"}]"#
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 10, \#(p)}"#), "accepted")
        XCTAssertEqual(refusal(#"{"format": "timer-criu/1", "root": 10, \#(p)}"#),
                       #"t/index.json: format: "timer-criu/1" is not timer-criu-tree/1"#)
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 12, \#(p)}"#),
                       "t/index.json: root: 12 is not one of the processes")
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "10.json"}, {"pid": 10, "ppid": 1, "file": "b.json"}]}"#),
                       "t/index.json: processes[1].pid: 10 appears twice (also processes[0])")
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "a.json"}, {"pid": 11, "ppid": 10, "file": "a.json"}]}"#),
                       #"t/index.json: processes[1].file: "a.json" appears twice (also processes[0])"#)
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "../10.json"}]}"#),
                       #"t/index.json: processes[0].file: "../10.json" is not a plain file name in the tree directory"#)
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "10.json"}, {"pid": 11, "ppid": 7, "file": "11.json"}]}"#),
                       "t/index.json: processes[1].ppid: 7 is not in the tree (only the root's parent may be outside it)")
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "10.json"}, {"pid": 11, "ppid": 12, "file": "11.json"}, {"pid": 12, "ppid": 11, "file": "12.json"}]}"#),
                       "t/index.json: processes: process 11 is not a descendant of root 10 (its parents form a loop)")
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "10.json", "comm": "sh"}]}"#),
                       #"t/index.json: processes[0]: unknown field "comm""#)
        XCTAssertEqual(refusal(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 0, "ppid": 1, "file": "10.json"}]}"#),
                       "t/index.json: processes[0].pid: 0 is outside 1...2147483647")
        XCTAssertTrue(refusal("{").hasPrefix("t/index.json: not JSON: "), refusal("{"))
    }

    func testWriteThenLoad() throws {
        let dir = try temporaryDirectory() + "/tree"
        let index = CheckpointTreeIndex(root: 10, processes: entries([(10, 1), (20, 10), (30, 10)]))
        let checkpoints = [checkpoint(10, ids: [3]), checkpoint(20, ids: [0]), checkpoint(30, ids: [0, 7])]
        try CheckpointTreeWriter.write(index: index, checkpoints: checkpoints, to: dir)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       ["10.json", "20.json", "30.json", "index.json"])
        // No temporary sibling is left.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (dir as NSString).deletingLastPathComponent), ["tree"])
        XCTAssertTrue(CheckpointTree.isTreeDirectory(dir))
        let tree = try CheckpointTree.load(directory: dir)
        XCTAssertEqual(tree.index, index)
        XCTAssertEqual(tree.checkpoints, checkpoints)
        // A single checkpoint is still a single checkpoint.
        XCTAssertEqual(try CheckpointSource.load(path: dir + "/30.json"), checkpoints[2])
        XCTAssertFalse(CheckpointTree.isTreeDirectory(dir + "/30.json"))
    }

    func testWriterReplacesAnEmptyDirectoryAndRefusesAFullOne() throws {
        let base = try temporaryDirectory()
        let index = CheckpointTreeIndex(root: 10, processes: entries([(10, 1)]))
        let checkpoints = [checkpoint(10, ids: [1])]
        try FileManager.default.createDirectory(atPath: base + "/empty", withIntermediateDirectories: false)
        try CheckpointTreeWriter.write(index: index, checkpoints: checkpoints, to: base + "/empty/")
        XCTAssertTrue(CheckpointTree.isTreeDirectory(base + "/empty"))

        XCTAssertThrowsError(try CheckpointTreeWriter.write(index: index, checkpoints: checkpoints, to: base + "/empty")) {
            XCTAssertEqual("\($0)", "cannot write \(base)/empty: the directory exists and is not empty (a dump never overwrites one)")
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: base + "/file", contents: Data("x".utf8)))
        XCTAssertThrowsError(try CheckpointTreeWriter.write(index: index, checkpoints: checkpoints, to: base + "/file")) {
            XCTAssertEqual("\($0)", "cannot write \(base)/file: it exists and is not a directory")
        }
        // A failure half-way leaves nothing: no target, no temporary directory.
        XCTAssertThrowsError(try CheckpointTreeWriter.write(
            index: CheckpointTreeIndex(root: 10, processes: entries([(10, 1), (11, 10)])), checkpoints: checkpoints,
            to: base + "/half")) {
            XCTAssertEqual("\($0)", "cannot write \(base)/half: no checkpoint of process 11")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: base).sorted(), ["empty", "file"])
    }

    func testLoadRefusals() throws {
        let dir = try temporaryDirectory()
        func refusal() -> String {
            do { _ = try CheckpointTree.load(directory: dir); return "accepted" } catch { return error.description }
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/10.json", contents: Data(checkpoint(10, ids: [1]).jsonBytes())))
        XCTAssertFalse(CheckpointTree.isTreeDirectory(dir))
        XCTAssertTrue(CheckpointTree.looksLikeTreeWithoutIndex(dir))
        XCTAssertEqual(refusal(), "\(dir)/index.json: missing: a timer-criu-tree/1 directory needs an index (docs/trees.md)")

        let index = CheckpointTreeIndex(root: 10, processes: entries([(10, 1), (11, 10)]))
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/index.json", contents: Data(index.jsonBytes())))
        XCTAssertEqual(refusal(), "\(dir)/index.json: process 11: its checkpoint 11.json does not exist")

        // 11.json holds the checkpoint of another process.
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/11.json", contents: Data(checkpoint(12, ids: [1]).jsonBytes())))
        XCTAssertEqual(refusal(), "\(dir)/11.json: pid 12, but index.json lists this file for process 11")

        // A checkpoint error names its file and field.
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/11.json", contents: Data(#"{"format": "timer-criu/1", "pid": 11}"#.utf8)))
        XCTAssertEqual(refusal(), "\(dir)/11.json: missing field \"kernel\"")

        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/11.json", contents: Data(checkpoint(11, ids: [1]).jsonBytes())))
        XCTAssertEqual(refusal(), "accepted")
        XCTAssertFalse(CheckpointTree.looksLikeTreeWithoutIndex(dir))
    }
}
