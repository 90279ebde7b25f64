// libFuzzer target: the file reader behind every command's input
// (CheckpointSource.load, CheckpointTree.load on HostKernel's HostInputFiles). The input builds a small directory in /dev/shm: its
// first byte picks the layout, the rest is cut into files of 2-byte
// big-endian length + content:
//   0 a JSON checkpoint           1 a FIFO as the checkpoint
//   2 a symlink to a FIFO         3 a CRIU directory (pstree.img, then core
//   4 a tree (index.json,           images of tids 10177, 10179, 10178, 1, 2)
//     100.json, 101.json)           beside an unnamed FIFO core-99999.img
//   5 layout 3 read through core-10177.img
// Built by Scripts/fuzz.sh with the pure modules and HostKernel's file reader (one module).
//
// Properties (issue 17 items 3, 4, 11): nothing blocks (libFuzzer's -timeout
// catches a hang in open()); a FIFO is refused, never read; an accepted
// checkpoint writes JSON that reads back equal; a refusal is one line
// without control characters.
#if canImport(Glibc)
import Glibc
#endif

let fuzzRoot = "/dev/shm/timer-criu-fuzz-files-\(getpid())"

func fuzzWrite(_ path: String, _ bytes: ArraySlice<UInt8>) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot create \(path)")
    let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    precondition(count == bytes.count)
    close(fd)
}

func fuzzRemoveTree(_ path: String) {
    guard let dir = opendir(path) else { unlink(path); return }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name == "." || name == ".." { continue }
        let child = path + "/" + name
        var info = stat()
        if lstat(child, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { fuzzRemoveTree(child) } else { unlink(child) }
    }
    closedir(dir)
    rmdir(path)
}

/// Splits `bytes` into chunks of 2-byte big-endian length + content.
func fuzzChunks(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
    var chunks: [ArraySlice<UInt8>] = []
    var position = bytes.startIndex
    while position + 2 <= bytes.endIndex, chunks.count < 6 {
        let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
        let start = position + 2
        let end = min(start + length, bytes.endIndex)
        chunks.append(bytes[start..<end])
        position = end
    }
    return chunks
}

func checkRefusal(_ message: String) {
    precondition(message.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f },
                 "a control character in: \(message.debugDescription)")
    precondition(message.utf8.count < 1000, "a refusal of \(message.utf8.count) bytes")
}

func checkAccepted(_ checkpoint: Checkpoint) {
    let json = checkpoint.jsonBytes()
    do {
        let back = try Checkpoint(json: json, path: "again.json")
        precondition(back == checkpoint, "JSON round trip changed the checkpoint")
    } catch {
        fatalError("an accepted checkpoint writes JSON that is refused: \(error)\n\(String(decoding: json, as: UTF8.self))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fileReaderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let layout = Int(bytes[0]) % 6
    let rest = bytes[1...]
    fuzzRemoveTree(fuzzRoot)
    precondition(mkdir(fuzzRoot, 0o700) == 0, "mkdir \(fuzzRoot): errno \(errno)")
    defer { fuzzRemoveTree(fuzzRoot) }
    var path = fuzzRoot + "/cp.json"
    switch layout {
    case 0:
        fuzzWrite(path, rest)
    case 1:
        precondition(mkfifo(path, 0o600) == 0)
    case 2:
        precondition(mkfifo(fuzzRoot + "/fifo", 0o600) == 0)
        path = fuzzRoot + "/link.json"
        precondition(symlink(fuzzRoot + "/fifo", path) == 0)
    case 3, 5:
        let tids = [10177, 10179, 10178, 1, 2]
        for (index, chunk) in fuzzChunks(rest).enumerated() {
            fuzzWrite(fuzzRoot + (index == 0 ? "/pstree.img" : "/core-\(tids[index - 1]).img"), chunk)
        }
        precondition(mkfifo(fuzzRoot + "/core-99999.img", 0o600) == 0)
        path = layout == 3 ? fuzzRoot : fuzzRoot + "/core-10177.img"
    default:
        let names = ["index.json", "100.json"]
        for (index, chunk) in fuzzChunks(rest).prefix(2).enumerated() { fuzzWrite(fuzzRoot + "/" + names[index], chunk) }
        precondition(mkfifo(fuzzRoot + "/101.json", 0o600) == 0)
        do {
            let tree = try CheckpointTree.load(directory: fuzzRoot)
            for checkpoint in tree.checkpoints { checkAccepted(checkpoint) }
        } catch {
            checkRefusal(error.description)
        }
        return 0
    }
    do {
        let checkpoint = try CheckpointSource.load(path: path)
        precondition(layout != 1 && layout != 2, "a FIFO was read as a checkpoint")
        checkAccepted(checkpoint)
    } catch {
        checkRefusal(error.description)
        if layout == 1 || layout == 2 { precondition(error.problem.contains("a FIFO"), error.description) }
    }
    return 0
}
