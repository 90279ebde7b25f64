// libFuzzer target: `dump --from-proc-file` (Checkpoint.fromProcFile,
// Sources/TimerCore/Checkpoint). The input's first byte picks --pid (none,
// 1, 4321 or 2147483647); the rest is the saved /proc/PID/timers, written to
// a file and converted as the command does. Built by Scripts/fuzz.sh together
// with the pure modules and HostKernel's file reader (one module).
//
// Property (issue 17 item 6): what the conversion accepts, the tool's own
// loader accepts again, equal, and it passes validation: nothing dump writes
// fails its own reader. A refusal is one line without control characters.
#if canImport(Glibc)
import Glibc
#endif

let procFilePath = "/dev/shm/timer-criu-fuzz-proc-\(getpid()).txt"

@_cdecl("LLVMFuzzerTestOneInput")
public func procFileFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let pids: [Int32?] = [nil, 1, 4321, Int32.max]
    let pid = pids[Int(data[0]) % pids.count]
    let fd = open(procFilePath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(procFilePath)")
    if size > 1 { precondition(write(fd, data + 1, size - 1) == size - 1) }
    close(fd)
    let checkpoint: Checkpoint
    do {
        checkpoint = try Checkpoint.fromProcFile(path: procFilePath, pid: pid)
    } catch {
        let message = error.description
        precondition(!message.contains("\n") && !message.contains("\r") && !message.contains("\u{1b}"),
                     "a refusal that is not one escaped line: \(message.debugDescription)")
        precondition(message.utf8.count < 1000, "a refusal of \(message.utf8.count) bytes")
        return 0
    }
    let json = checkpoint.jsonBytes()
    do {
        let back = try Checkpoint(json: json, path: "again.json")
        precondition(back == checkpoint, "JSON round trip changed the checkpoint")
        try back.validate(path: "again.json")
    } catch {
        fatalError("dump --from-proc-file wrote a checkpoint its loader refuses: \(error)\n\(String(decoding: json, as: UTF8.self))")
    }
    return 0
}
