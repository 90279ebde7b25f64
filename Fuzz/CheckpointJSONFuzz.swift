// libFuzzer target: the timer-criu/1 checkpoint loader (JSONValue parser +
// field checks + validation; Sources/TimerCore/Checkpoint). Built by
// Scripts/fuzz.sh together with every file of Sources/TimerCore (one module).
//
// Properties: never crashes; an accepted checkpoint writes JSON that is
// accepted again and reads back equal (what restore's helper relies on: the
// parent sends it the checkpoint as JSON).
@_cdecl("LLVMFuzzerTestOneInput")
public func checkpointJSONFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let checkpoint = try? Checkpoint(json: bytes, path: "fuzz.json") else { return 0 }
    let json = checkpoint.jsonBytes()
    do {
        let back = try Checkpoint(json: json, path: "again.json")
        precondition(back == checkpoint, "JSON round trip changed the checkpoint")
    } catch {
        fatalError("the writer's JSON is refused: \(error)\n\(String(decoding: json, as: UTF8.self))")
    }
    // Validation (what restore refuses before any syscall) and the table
    // inspect prints must not trap either.
    _ = try? checkpoint.validate(path: "fuzz.json")
    _ = CheckpointTable.render(checkpoint)
    return 0
}
