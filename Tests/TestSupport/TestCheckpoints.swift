import Foundation
import TimerCore
import TimerFormats

/// Checkpoints and scratch directories the command-line tests share.
public enum TestCheckpoints {
    /// A fresh directory under the temporary directory; the caller removes it.
    public static func makeDirectory(_ prefix: String) throws -> String {
        let directory = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Writes `checkpoint` to a fresh `PREFIX-UUID.json` in the temporary
    /// directory and returns its path; the caller removes it.
    public static func writeTemporary(_ checkpoint: Checkpoint, prefix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString).json").path
        try Data(checkpoint.jsonBytes()).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Writes `directory/c.json`: pid 4242, one monotonic SIGALRM timer per ID.
    public static func write(ids: [Int32], in directory: String) throws -> String {
        let checkpoint = Checkpoint(pid: 4242, kernel: "6.18.44", threads: [4242], timers: ids.map {
            CheckpointTimer(id: $0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 4242)
        })
        let path = directory + "/c.json"
        try Data(checkpoint.jsonBytes()).write(to: URL(fileURLWithPath: path))
        return path
    }
}
