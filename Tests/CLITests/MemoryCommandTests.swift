import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HostKernel
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// `timer-criu memory` as a user runs it (the built binary): the table and
/// JSON on the CRIU fixture (a timer at INT_MAX) and on a dense dump, the
/// sweep and its SVG, and the usage errors.
final class MemoryCommandTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try TestCheckpoints.makeDirectory("memory-tests") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }
    func writeCheckpoint(_ ids: [Int32]) throws -> String { try TestCheckpoints.write(ids: ids, in: directory) }

    func row(_ text: String, _ design: String, _ kernels: String) -> [String]? {
        text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .first { $0.count > 2 && $0[0] == design && $0[1] == kernels }
    }

    /// The fixture's IDs 0, 7, 99, 123456, INT_MAX: 14 xarray nodes (worked
    /// out in KernelMemoryTests), 14 IDR layers, nothing for the hash.
    func testTableOnTheCRIUFixture() throws {
        let fixture = BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case1"
        let result = try runTimerCRIU(["memory", fixture])
        XCTAssertEqual(result.status, 0, result.stderr)
        let text = result.stdoutText
        XCTAssertTrue(text.hasPrefix("\(fixture): 5 timer(s) in 1 process, highest ID 2147483647\n"), text)
        let xarray = try XCTUnwrap(row(text, "per-process-xarray", "rfd-dense"), text)
        // The sizes the tool read (on the project's 6.18 host: 384, 80, 576).
        let sizes = SlabInfo.timerObjectSizes()
        let separate = 5 * (sizes.kItimer + sizes.sigqueue), embedded = 5 * sizes.kItimer
        XCTAssertEqual(xarray.filter { !$0.isEmpty }[2...5], ["5", "\(separate)", "14", "\(14 * sizes.xarrayNode)"])
        let hash = try XCTUnwrap(row(text, "global-hash", "linux-6.15"), text)
        XCTAssertEqual(hash.filter { !$0.isEmpty }.suffix(6),
                       ["\(embedded)", "0", "0", "\(embedded)", "\(sizes.kItimer)", "1.00x"])
        XCTAssertNotNil(row(text, "global-hash", "linux-3.10,rfd-cursor"), text)
        XCTAssertNotNil(row(text, "global-idr", "linux-2.6"), text)
        XCTAssertTrue(text.contains("rfd-dense   xarray per process"), text)
        XCTAssertTrue(text.contains("xa_load walks 6 node(s)"), text)
        XCTAssertTrue(text.contains("idr_find walks 6 layer(s)"), text)
        XCTAssertTrue(text.contains("note (global-idr): 2.6's IDR grew to 5 layers at most"), text)
    }

    /// A dense dump: every design at its dense cost, ratio 1.00x.
    func testDenseDumpAndExactJSONKeys() throws {
        let path = try writeCheckpoint(Array(0..<100))
        let table = try runTimerCRIU(["memory", path])
        XCTAssertEqual(table.status, 0, table.stderr)
        for line in table.stdoutText.split(separator: "\n") where line.hasPrefix("global-") || line.hasPrefix("per-") {
            XCTAssertTrue(line.hasSuffix("1.00x"), String(line))
        }
        let result = try runTimerCRIU(["memory", path, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(Set(document.keys), ["timers", "designs"])
        XCTAssertEqual(document["timers"] as? Int, 100)
        let designs = try XCTUnwrap(document["designs"] as? [[String: Any]])
        XCTAssertEqual(designs.map { $0["design"] as? String },
                       ["global-hash", "global-hash", "per-process-xarray", "global-idr"])
        for design in designs {
            XCTAssertEqual(Set(design.keys), ["design", "kernels", "timer_bytes", "index_nodes", "index_bytes", "total_bytes"])
            XCTAssertEqual(design["total_bytes"] as? Int,
                           (design["timer_bytes"] as? Int ?? -1) + (design["index_bytes"] as? Int ?? -1))
        }
        // 0 ... 99: two leaves and a root, in the xarray and the IDR alike.
        XCTAssertEqual(designs[2]["index_nodes"] as? Int, 3)
        XCTAssertEqual(designs[3]["index_nodes"] as? Int, 3)
        XCTAssertEqual(designs.flatMap { $0["kernels"] as? [String] ?? [] }.sorted(),
                       ["linux-2.6", "linux-3.10", "linux-6.15", "rfd-cursor", "rfd-dense"])
    }

    /// A tree: an xarray per process, one IDR for the machine. Processes 100
    /// and 200 both hold {0, 64}: xarrays 3 + 3 nodes, the IDR 3 layers
    /// (0 and 64 once; 2.6 could not have given both processes the same IDs).
    func testTreeDirectory() throws {
        let tree = directory + "/tree"
        let checkpoints = [Int32(100), 200].map { pid in
            Checkpoint(pid: pid, kernel: "6.18.44", threads: [pid], timers: [0, 64].map {
                CheckpointTimer(id: $0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: pid)
            })
        }
        let index = CheckpointTreeIndex(root: 100, processes: [
            CheckpointTreeEntry(pid: 100, ppid: 1, file: "100.json"), CheckpointTreeEntry(pid: 200, ppid: 100, file: "200.json"),
        ])
        try CheckpointTreeWriter.write(index: index, checkpoints: checkpoints, to: tree)
        let result = try runTimerCRIU(["memory", tree, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(document["timers"] as? Int, 4)
        let designs = try XCTUnwrap(document["designs"] as? [[String: Any]])
        XCTAssertEqual(designs.map { $0["index_nodes"] as? Int }, [0, 0, 6, 3])
        let table = try runTimerCRIU(["memory", tree])
        XCTAssertTrue(table.stdoutText.hasPrefix("\(tree): 4 timer(s) in 2 processes, highest ID 64\n"), table.stdoutText)
    }

    func testSweepWritesTheSVG() throws {
        let svg = directory + "/sweep.svg"
        let result = try runTimerCRIU(["memory", "--sweep", "--timers", "1000", "--svg", svg])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdoutText.hasPrefix("bytes per timer, 1000 timer(s) in one process"), result.stdoutText)
        XCTAssertTrue(result.stdoutText.contains("Worst case per user: RLIMIT_SIGPENDING = "), result.stdoutText)
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(picture.hasPrefix("<?xml"))
        XCTAssertTrue(picture.contains("worst case per user"))
        XCTAssertNotNil(try? XMLDocument(data: Data(picture.utf8)))
        let json = try runTimerCRIU(["memory", "--sweep", "--timers", "1000", "--json"])
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        XCTAssertEqual((document["points"] as? [Any])?.count, MemorySweep.strides(timers: 1000).count)
    }

    /// `compare` prints each row's kernel memory (KMEM) beside its syscalls,
    /// the same totals `memory` gives.
    func testCompareShowsKernelMemory() throws {
        let fixture = BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case1"
        let table = try runTimerCRIU(["compare", fixture])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdoutText.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines[1][8], "KMEM")
        let sizes = SlabInfo.timerObjectSizes()
        let createAtID = try XCTUnwrap(lines.first { $0.first == "linux-6.15" && $0[1] == "create-at-id" })
        XCTAssertEqual(createAtID[8] + " " + createAtID[9], ByteText.size(Double(5 * sizes.kItimer)))
        let json = try runTimerCRIU(["compare", fixture, "--json"])
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let memory = try XCTUnwrap(document["kernel_memory_bytes"] as? [String: Int])
        // 14 IDR layers and 14 xarray nodes for IDs 0, 7, 99, 123456, INT_MAX.
        let separate = 5 * (sizes.kItimer + sizes.sigqueue)
        XCTAssertEqual(memory, ["linux-2.6": separate + 14 * sizes.idrLayer, "linux-3.10": separate,
                                "linux-6.15": 5 * sizes.kItimer, "rfd-cursor": separate,
                                "rfd-dense": separate + 14 * sizes.xarrayNode])
    }

    func testUsageAndInputErrors() throws {
        let path = try writeCheckpoint([1])
        for (arguments, message) in [
            (["memory", path, "--svg", directory + "/x.svg"], "--svg draws the sweep: add --sweep"),
            (["memory"], "missing CHECKPOINT (or --sweep)"),
            (["memory", "--sweep", "--timers", "0"], "--timers must be 1 ... 2147483647"),
            (["memory", path, "--sweep", "--timers", "5"], "--timers or CHECKPOINT, not both"),
        ] {
            let result = try runTimerCRIU(arguments)
            XCTAssertEqual(result.status, 64, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
            XCTAssertTrue(result.stdout.isEmpty)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/x.svg"))
        let missing = try runTimerCRIU(["memory", directory + "/nope.json"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stdout.isEmpty)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }
}
