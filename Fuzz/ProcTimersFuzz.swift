// libFuzzer target: the /proc/PID/timers parser (Sources/TimerCore/Proc).
// Built by Scripts/fuzz.sh together with every file of Sources/TimerCore (one module).
//
// Properties checked on every input, beyond "does not crash":
// - what parses renders back to text that parses to the same records;
// - a checkpoint built from the records (as dump does) round-trips through
//   its timer-criu/1 JSON unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func procTimersFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let timers = try? ProcTimersParser.parse(bytes) else { return 0 }
    let rendered = ProcTimersRenderer.render(timers)
    guard let again = try? ProcTimersParser.parse(rendered) else {
        fatalError("rendered text does not parse again: \(String(decoding: rendered, as: UTF8.self))")
    }
    // Re-rendering loses only the sival form of (null) vs 0; compare the rest.
    for (a, b) in zip(timers, again) where a.id != b.id || a.signal != b.signal || a.sigevValue != b.sigevValue
        || a.notify != b.notify || a.notifyTarget != b.notifyTarget || a.clockID != b.clockID {
        fatalError("render/parse changed \(a) into \(b)")
    }
    precondition(timers.count == again.count, "render/parse changed the number of timers")
    let threads: [Int32] = [1, 2]
    guard let checkpoint = try? Checkpoint(pid: 1, kernel: "6.18.0", threads: threads, procTimers: timers) else {
        return 0  // the same ID twice: dump reports it and reads again
    }
    let json = checkpoint.jsonBytes()
    do {
        let back = try Checkpoint(json: json, path: "fuzz.json")
        precondition(back == checkpoint, "JSON round trip changed the checkpoint")
    } catch {
        fatalError("dump's own JSON is refused: \(error)\n\(String(decoding: json, as: UTF8.self))")
    }
    return 0
}
