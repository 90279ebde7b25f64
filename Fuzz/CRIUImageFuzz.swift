// libFuzzer target: the CRIU image reader (protobuf wire format, core and
// pstree images; Sources/TimerCore/CRIU). The input is one core-PID.img, read
// as `timer-criu restore DIR/core-10177.img` would read it. Built by
// Scripts/fuzz.sh together with every file of Sources/TimerCore (one module).
//
// Properties: never crashes; an accepted image gives a checkpoint whose JSON
// is accepted again and reads back equal, and that validation and the
// inspect table handle without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func criuImageFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The same bytes as a pstree image: a different magic, the same wire reader.
    _ = try? CRIUImageDecoder.decodePstree(bytes)
    guard let checkpoint = try? CRIUCheckpointReader.checkpoint(
        directory: "fuzz", files: ["core-10177.img": bytes], pid: 10177) else { return 0 }
    let json = checkpoint.jsonBytes()
    do {
        let back = try Checkpoint(json: json, path: "again.json")
        precondition(back == checkpoint, "JSON round trip changed the checkpoint")
    } catch {
        fatalError("a checkpoint read from a CRIU image writes JSON that is refused: \(error)\n\(String(decoding: json, as: UTF8.self))")
    }
    _ = try? checkpoint.validate()
    _ = CheckpointTable.render(checkpoint)
    return 0
}
