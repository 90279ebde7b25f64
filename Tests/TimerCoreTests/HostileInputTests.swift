import Foundation
import XCTest
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// At the library level: the checkpoint reader is as
/// strict as its schema, text from a checkpoint is escaped before it reaches
/// a terminal, echoed input is cut, and tree file names compare as bytes.
final class HostileInputTests: XCTestCase {
    func refusal(_ text: String) -> String {
        do {
            _ = try Checkpoint(json: Array(text.utf8), path: "cp.json")
            return "accepted"
        } catch {
            return error.description
        }
    }

    func document(threads: String = "[9]", timers: String = "", warnings: String? = "[]") -> String {
        #"{"format": "timer-criu/1", "pid": 9, "kernel": "x", "threads": \#(threads), "timers": [\#(timers)]"#
            + (warnings.map { #", "warnings": \#($0)"# } ?? "") + "}"
    }

    func timer(sival: String = "0x0", clock: String? = #""clock": "monotonic", "#) -> String {
        #"{"id": 1, "clock_id": 1, \#(clock ?? "")"signal": 14, "sigev_value": "\#(sival)", "notify": "signal", "notify_target": 9}"#
    }

    func testReaderIsAsStrictAsTheSchema() {
        XCTAssertEqual(refusal(document(timers: timer())), "accepted")
        XCTAssertEqual(refusal(document(timers: timer(sival: "0xDEADbeef"))), "accepted")
        for sival in ["0x+1", "0x-0", "0X1", "0x", "0x 1", "+0x1", "0x1_0"] {
            XCTAssertEqual(refusal(document(timers: timer(sival: sival))),
                           "cp.json: timers[0].sigev_value: \"\(sival)\" is not \"0x\" and 1 to 16 hex digits", sival)
        }
        XCTAssertEqual(refusal(document(timers: timer(clock: nil))), "cp.json: timers[0]: missing field \"clock\"")
        XCTAssertEqual(refusal(document(warnings: nil)), "cp.json: missing field \"warnings\"")
        XCTAssertEqual(refusal(document(warnings: "{}")), "cp.json: warnings: expected an array, found an object")
        XCTAssertEqual(refusal(document(threads: "[]")), "cp.json: threads: is empty: the process's own pid 9 comes first")
        XCTAssertEqual(refusal(document(threads: "[10]")),
                       "cp.json: threads[0]: 10, but the main thread (the pid, 9) comes first and is not listed")
        XCTAssertEqual(refusal(document(threads: "[10, 9]")),
                       "cp.json: threads[0]: 10, but the main thread (the pid, 9) comes first")
    }

    func testEchoedInputIsEscapedAndCut() {
        let key = "\u{1b}]0;owned\u{07}" + String(repeating: "k", count: 10_000_000)
        let message = refusal(#"{"format": "timer-criu/1", "\#(key)": 1}"#.replacingOccurrences(of: "\u{1b}", with: "\\u001b")
            .replacingOccurrences(of: "\u{07}", with: "\\u0007"))
        XCTAssertTrue(message.hasPrefix("cp.json: unknown field \"\\e]0;owned\\u{7}kkk"), message)
        XCTAssertTrue(message.hasSuffix("... (10000010 bytes)\""), String(message.suffix(40)))
        XCTAssertLessThan(message.utf8.count, 200)

        // The /proc parser's notify kind: a 10 MB word was echoed whole.
        let word = String(repeating: "q", count: 10_000_000)
        let text = "ID: 1\nsignal: 14/0000000000000000\nnotify: \(word)/pid.1\nClockID: 1\n"
        do {
            _ = try ProcTimersParser.parse(Array(text.utf8))
            XCTFail("accepted")
        } catch {
            XCTAssertLessThan(error.description.utf8.count, 200, String(error.description.prefix(200)))
            XCTAssertTrue(error.description.contains("notify kind \"qqq"), error.description)
        }
        // A /proc line with a CR and an ESC in it is quoted escaped.
        do {
            _ = try ProcTimersParser.parse(Array("ID: 1\r\u{1b}[2J\n".utf8))
            XCTFail("accepted")
        } catch {
            XCTAssertFalse(error.description.unicodeScalars.contains { $0.value < 0x20 }, error.description.debugDescription)
        }
        XCTAssertEqual(EchoedText.escaped("a\r\nb\tc\u{1b}d\u{0}e\u{7f}f\u{9b}g\u{202e}h"),
                       "a\\r\\nb\\tc\\ed\\u{0}e\\u{7f}f\\u{9b}g\\u{202e}h")
        XCTAssertEqual(EchoedText.cut("short"), "short")
        XCTAssertEqual(EchoedText.cut(String(repeating: "é", count: 61)), String(repeating: "é", count: 60) + "... (122 bytes)")
    }

    /// A crafted checkpoint's kernel and warnings cannot forge lines or send
    /// terminal escapes through the inspect table or a warning line.
    func testCheckpointTextIsEscapedInTheTableAndWarnings() {
        let checkpoint = Checkpoint(pid: 9, kernel: "6.18\u{1b}[2J\rfake: ok", threads: [9], timers: [],
                                    warnings: ["one\nrestored 99 timer(s)\u{0}", "bidi \u{202e}txt"])
        let table = CheckpointTable.render(checkpoint)
        XCTAssertFalse(table.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x202e },
                       table.debugDescription)
        XCTAssertTrue(table.contains("kernel 6.18\\e[2J\\rfake: ok"), table)
        XCTAssertTrue(table.contains("  - one\\nrestored 99 timer(s)\\u{0}\n"), table)
        XCTAssertEqual(EchoedText.warningLine("a\nb", process: 7), "timer-criu: warning: process 7: a\\nb\n")
    }

    /// Tree file names are bytes: NFC and NFD "é.json" are two files.
    func testTreeIndexComparesFileNamesAsBytes() throws {
        let nfc = "\u{e9}.json", nfd = "e\u{301}.json"
        XCTAssertEqual(nfc, nfd, "Swift's String == is canonical equivalence")
        let text = """
            {"format": "timer-criu-tree/1", "root": 1, "processes": [
              {"pid": 1, "ppid": 0, "file": "\(nfc)"}, {"pid": 2, "ppid": 1, "file": "\(nfd)"}]}
            """
        let index = try CheckpointTreeIndex(json: Array(text.utf8), path: "index.json")
        XCTAssertEqual(index.processes.map { Array($0.file.utf8) }, [Array(nfc.utf8), Array(nfd.utf8)])
        let twice = text.replacingOccurrences(of: nfd, with: nfc)
        XCTAssertThrowsError(try CheckpointTreeIndex(json: Array(twice.utf8), path: "index.json")) { error in
            XCTAssertTrue("\(error)".contains("appears twice"), "\(error)")
        }
    }
}
