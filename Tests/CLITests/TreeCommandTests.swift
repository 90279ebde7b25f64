import Foundation
import TestSupport
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// A shell that becomes a timer-fixture (timer 0) after starting two more in
/// the background (timer 0; timers 0 and 1): a real three-process tree in
/// which every process has timer ID 0.
/// `stop()` kills exactly these three pids.
final class FixtureTree {
    let process = Process()
    var root: Int32 { process.processIdentifier }
    private(set) var children: [Int32] = []
    private var stopped = false

    init() throws {
        let fixture = try BuiltProducts.path("timer-fixture")
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "'\(fixture)' id=0 & '\(fixture)' id=0,signal=10 id=1 & exec '\(fixture)' id=0"]
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        // Each fixture prints `ready PID` once its timers exist.
        var ready: [Int32] = []
        var buffer = ""
        let fd = pipe.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(20)
        while ready.count < 3 && Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            buffer += String(decoding: chunk[0..<n], as: UTF8.self)
            while let newline = buffer.firstIndex(of: "\n") {
                let line = buffer[..<newline]
                buffer.removeSubrange(...newline)
                if line.hasPrefix("ready "), let pid = Int32(line.dropFirst(6)) { ready.append(pid) }
            }
        }
        children = ready.filter { $0 != process.processIdentifier }.sorted()
        guard ready.count == 3, children.count == 2 else {
            stop()
            throw TestSupportError("the fixture tree did not get ready: \(ready)")
        }
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        for pid in children { kill(pid, SIGKILL) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()  // the children, now orphans, are reaped by init
    }

    deinit { stop() }
}

/// `dump --tree` and `restore DIR` as a user runs them (docs/trees.md).
final class TreeCommandTests: XCTestCase {
    var cleanups: [() -> Void] = []
    override func tearDown() {
        for cleanup in cleanups.reversed() { cleanup() }
        cleanups = []
    }

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tc-treecmd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        cleanups.append { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func startTree() throws -> FixtureTree {
        let tree = try FixtureTree()
        cleanups.append { tree.stop() }
        return tree
    }

    func json(_ result: CommandResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)
    }

    /// Dumps a live tree and checks the index and every checkpoint.
    func dumpLiveTree() throws -> (FixtureTree, String) {
        let tree = try startTree()
        let dir = try temporaryDirectory() + "/tree"
        let dump = try runTimerCRIU(["dump", "--tree", String(tree.root), "-o", dir])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        XCTAssertEqual(dump.stderrLines, ["timer-criu: dumped 3 process(es), 4 timer(s) into \(dir)", itimersNotReadNote])
        return (tree, dir)
    }

    func testDumpTreeOfALiveTree() throws {
        let (tree, dir) = try dumpLiveTree()
        let index = try CheckpointTreeIndex(json: Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/index.json"))))
        XCTAssertEqual(index.root, tree.root)
        XCTAssertEqual(index.processes.map(\.pid), [tree.root] + tree.children)
        XCTAssertEqual(index.processes.map(\.ppid), [getpid(), tree.root, tree.root])
        XCTAssertEqual(index.processes.map(\.file), index.processes.map { "\($0.pid).json" })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       (index.processes.map(\.file) + ["index.json"]).sorted())
        let loaded = try CheckpointTree.load(directory: dir)
        XCTAssertEqual(loaded.checkpoints.map(\.pid), [tree.root] + tree.children)
        // The root has timer 0; the children 0, and 0 and 1 (in start order, not pid order).
        XCTAssertEqual(loaded.checkpoints[0].timers.map(\.id), [0])
        XCTAssertEqual(Set(loaded.checkpoints.dropFirst().map { $0.timers.map(\.id) }), [[0], [0, 1]])
        // Nothing but the tree was written next to it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (dir as NSString).deletingLastPathComponent), ["tree"])
    }

    func testRestoreLiveTreeOnModelsAndHost() throws {
        let (tree, dir) = try dumpLiveTree()

        // linux-6.15: create-at-ID, one timer_create per timer and two prctls per process.
        let model = try runTimerCRIU(["restore", dir, "--json"])
        XCTAssertEqual(model.status, 0, model.stderr + model.stdoutText)
        let report = try json(model)
        XCTAssertEqual(report["ok"] as? Bool, true)
        let processes = try XCTUnwrap(report["processes"] as? [[String: Any]])
        XCTAssertEqual(processes.compactMap { $0["pid"] as? Int }, ([tree.root] + tree.children).map { Int($0) })
        XCTAssertEqual(processes.map { $0["restored_pid"] as? Int }, [1000, 1001, 1002])
        let creates = processes.map { (($0["report"] as? [String: Any])?["syscalls"] as? [String: Any])?["timer_create"] as? Int }
        XCTAssertEqual(creates[0], 1)
        XCTAssertEqual(Set(creates.dropFirst()), [1, 2])
        let total = try XCTUnwrap(report["total"] as? [String: Any])
        XCTAssertEqual(total["verified"] as? Int, 3)
        XCTAssertEqual(total["timers"] as? Int, 4)
        XCTAssertEqual(total["syscalls"] as? [String: Int],
                       ["timer_create": 4, "timer_delete": 0, "timer_settime": 0, "prctl": 6, "sysctl_write": 0, "total": 10])

        // linux-3.10 dances in each process: fine, IDs are per process.
        let dance = try runTimerCRIU(["restore", dir, "--kernel", "linux-3.10"])
        XCTAssertEqual(dance.status, 0, dance.stdoutText)
        XCTAssertTrue(dance.stdoutText.contains("total: 3 of 3 process(es) verified, 4 timer(s)"), dance.stdoutText)

        // linux-2.6: one ID space; ID 0 goes to the root, the children get 1.
        let old = try runTimerCRIU(["restore", dir, "--kernel", "linux-2.6"])
        XCTAssertEqual(old.status, 1, old.stdoutText)
        XCTAssertTrue(old.stdoutText.contains("total: 1 of 3 process(es) verified"), old.stdoutText)
        XCTAssertTrue(old.stdoutText.contains("verified: /proc/1000/timers matches the checkpoint"), old.stdoutText)
        for child in tree.children {
            XCTAssertTrue(old.stdoutText.contains("FAILED: process \(child): dance to ID 0: timer_create returned ID 1 where 0 was next"),
                          old.stdoutText)
        }
        XCTAssertTrue(old.stdoutText.contains("note: one ID space for all processes: 1 timer ID(s) were held by more than one process of the tree, and only one process can have each: ID 0 (processes \(tree.root), \(tree.children[0]), \(tree.children[1]))"),
                      old.stdoutText)

        // The host: one fresh helper per process, each verified through its own /proc.
        let host = try runTimerCRIU(["restore", dir, "--kernel", "host", "--json"])
        XCTAssertEqual(host.status, 0, host.stderr + host.stdoutText)
        let hostReport = try json(host)
        XCTAssertEqual(hostReport["ok"] as? Bool, true)
        let hostProcesses = try XCTUnwrap(hostReport["processes"] as? [[String: Any]])
        XCTAssertEqual(hostProcesses.map { $0["ok"] as? Bool }, [true, true, true])
        let helpers = hostProcesses.compactMap { ($0["restored_pid"] as? Int).map { Int32($0) } }
        XCTAssertEqual(Set(helpers).count, 3)
        XCTAssertTrue(Set(helpers).isDisjoint(with: [tree.root] + tree.children))
        XCTAssertEqual((hostReport["total"] as? [String: Any])?["timers"] as? Int, 4)
        // Not held: every helper is gone.
        for pid in helpers { XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(pid)/timers"), "\(pid)") }
    }

    /// --hold: every helper keeps its process's timers; the test kills the
    /// helper pids the report names.
    func testHostHoldKeepsEveryProcess() throws {
        let (_, dir) = try dumpLiveTree()
        let host = try runTimerCRIU(["restore", dir, "--kernel", "host", "--hold", "--json"])
        let held = ((try? json(host))?["processes"] as? [[String: Any]] ?? []).compactMap { ($0["held_pid"] as? Int).map { Int32($0) } }
        cleanups.append { for pid in held { kill(pid, SIGKILL) } }
        XCTAssertEqual(host.status, 0, host.stderr + host.stdoutText)
        XCTAssertEqual(held.count, 3)
        let shown = try held.map { pid in
            try ProcTimersParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/timers")))).map(\.id).sorted()
        }
        XCTAssertEqual(shown[0], [0])
        XCTAssertEqual(Set(shown.dropFirst()), [[0], [0, 1]])
    }

    /// A zombie child has no timers and no children: left out, with a warning.
    func testZombieChildIsLeftOut() throws {
        let fixture = try BuiltProducts.path("timer-fixture")
        // sh starts `sleep 0`, prints its pid and becomes a fixture, which never reaps it.
        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: "/bin/sh")
        parent.arguments = ["-c", "sleep 0 & echo $!; exec '\(fixture)' id=4"]
        let pipe = Pipe()
        parent.standardOutput = pipe
        parent.standardError = FileHandle.nullDevice
        try parent.run()
        cleanups.append {
            kill(parent.processIdentifier, SIGKILL)  // the zombie goes to init and is reaped
            parent.waitUntilExit()
        }
        var text = ""
        while !text.contains("ready ") {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let zombie = try XCTUnwrap(text.split(separator: "\n").first.flatMap { Int32($0) })
        // Wait until it is a zombie.
        for _ in 0..<100 {
            if ProcFS.status(pid: zombie)?.state == "Z" { break }
            usleep(20_000)
        }
        let dir = try temporaryDirectory() + "/tree"
        let dump = try runTimerCRIU(["dump", "--tree", String(parent.processIdentifier), "-o", dir])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        XCTAssertEqual(dump.stderrLines, [
            "timer-criu: warning: process \(zombie) is a zombie (exited, not reaped): no timers, left out of the tree",
            "timer-criu: dumped 1 process(es), 1 timer(s) into \(dir)",
            itimersNotReadNote,
        ])
        let tree = try CheckpointTree.load(directory: dir)
        XCTAssertEqual(tree.index.processes.map(\.pid), [parent.processIdentifier])
        XCTAssertEqual(tree.checkpoints[0].timers.map(\.id), [4])
    }

    func testDumpRefusals() throws {
        let base = try temporaryDirectory()
        let noOutput = try runTimerCRIU(["dump", "--tree", "1"])
        XCTAssertEqual(noOutput.status, 64)
        XCTAssertTrue(noOutput.stderr.contains("--tree needs -o DIR"), noOutput.stderr)

        try FileManager.default.createDirectory(atPath: base + "/full", withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: base + "/full/x", contents: Data()))
        let full = try runTimerCRIU(["dump", "--tree", String(getpid()), "-o", base + "/full"])
        XCTAssertEqual(full.status, 73)
        XCTAssertEqual(full.stderrLines,
                       ["timer-criu: cannot write \(base)/full: the directory exists and is not empty (a dump never overwrites one)"])

        let gone = try runTimerCRIU(["dump", "--tree", "2147483647", "-o", base + "/gone"])
        XCTAssertEqual(gone.status, 3)
        XCTAssertEqual(gone.stderrLines, ["timer-criu: no process with pid 2147483647 (no /proc/2147483647)"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: base), ["full"])
    }

    /// Without task/*/children (CONFIG_PROC_CHILDREN off) the tree comes from
    /// every /proc/N/stat's ppid; a command name may hold spaces and ')'.
    func testDumpTreeFromStatParents() throws {
        let proc = try temporaryDirectory() + "/proc"
        func fake(_ pid: Int32, ppid: Int32, comm: String, timer: Int32?) throws {
            let dir = "\(proc)/\(pid)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // All 52 fields, as Linux 3.5+ prints them (the reader refuses fewer than 22).
            let rest = Array(repeating: "0", count: 52 - 9).joined(separator: " ")
            try Data("\(pid) (\(comm)) S \(ppid) \(pid) \(pid) 0 -1 4194304 \(rest)\n".utf8)
                .write(to: URL(fileURLWithPath: dir + "/stat"))
            let timers = timer.map { "ID: \($0)\nsignal: 14/0000000000000000\nnotify: signal/pid.\(pid)\nClockID: 1\n" } ?? ""
            try Data(timers.utf8).write(to: URL(fileURLWithPath: dir + "/timers"))
        }
        try fake(1, ppid: 0, comm: "init", timer: nil)
        try fake(40, ppid: 1, comm: "sh", timer: 1)
        try fake(45, ppid: 40, comm: "odd) (name", timer: 2)
        try fake(41, ppid: 40, comm: "a b", timer: nil)
        try fake(50, ppid: 45, comm: "grandchild", timer: 3)
        try fake(60, ppid: 1, comm: "other", timer: 4)
        let dir = (proc as NSString).deletingLastPathComponent + "/tree"
        let dump = try runTimerCRIU(["dump", "--tree", "40", "-o", dir, "--proc-root", proc])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let tree = try CheckpointTree.load(directory: dir)
        XCTAssertEqual(tree.index.processes, [
            CheckpointTreeEntry(pid: 40, ppid: 1, file: "40.json"),
            CheckpointTreeEntry(pid: 41, ppid: 40, file: "41.json"),
            CheckpointTreeEntry(pid: 45, ppid: 40, file: "45.json"),
            CheckpointTreeEntry(pid: 50, ppid: 45, file: "50.json"),
        ])
        XCTAssertEqual(tree.checkpoints.map { $0.timers.map(\.id) }, [[1], [], [2], [3]])
    }

    /// A broken tree directory: one line naming the problem, exit 2.
    func testBadTreeDirectories() throws {
        let dir = try temporaryDirectory()
        let checkpoint = Checkpoint(pid: 10, kernel: "6.18.0", threads: [10], timers: [
            CheckpointTimer(id: 0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 10),
        ])
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/10.json", contents: Data(checkpoint.jsonBytes())))
        func refused(_ line: String, file: StaticString = #filePath, line number: UInt = #line) throws {
            let result = try runTimerCRIU(["restore", dir])
            XCTAssertEqual(result.status, 2, file: file, line: number)
            XCTAssertEqual(result.stderrLines, [line], file: file, line: number)
            XCTAssertEqual(result.stdoutText, "", file: file, line: number)
        }
        try refused("timer-criu: \(dir)/index.json: missing: a timer-criu-tree/1 directory needs an index (docs/trees.md)")

        func writeIndex(_ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/index.json"))
        }
        try writeIndex(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "10.json"}, {"pid": 11, "ppid": 10, "file": "11.json"}]}"#)
        try refused("timer-criu: \(dir)/index.json: process 11: its checkpoint 11.json does not exist")

        try writeIndex(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "10.json"}, {"pid": 10, "ppid": 1, "file": "11.json"}]}"#)
        try refused("timer-criu: \(dir)/index.json: processes[1].pid: 10 appears twice (also processes[0])")

        try writeIndex(#"{"format": "timer-criu-tree/1", "root": 10, "processes": [{"pid": 10, "ppid": 1, "file": "10.json"}]}"#)
        let ok = try runTimerCRIU(["restore", dir])
        XCTAssertEqual(ok.status, 0, ok.stdoutText)
    }
}
