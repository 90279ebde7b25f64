import Foundation
import HostKernel
import SystemPackage
import TimerCore
import TimerComparison
import XCTest

/// The one file writer (OutputFile): what stands at the path decides how it
/// is written, and nothing half-written is left on any failure.
final class OutputFileTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-outfile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    let bytes = Array("{\"format\": \"timer-criu/1\"}\n".utf8)

    func entries() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }

    func status(_ path: String, follow: Bool = true) -> stat? {
        var info = stat()
        return (follow ? stat(path, &info) : lstat(path, &info)) == 0 ? info : nil
    }

    func refusal(_ path: String) -> OutputFileError? {
        do { try OutputFile.write(bytes, to: path); return nil } catch { return error }
    }

    func testANewFileIsCreatedAndARegularFileReplacedKeepingItsMode() throws {
        let path = directory + "/out.json"
        try OutputFile.write(bytes, to: path)
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data(bytes))
        try Data("old contents, longer than the new ones".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        let before = try XCTUnwrap(status(path))
        try OutputFile.write(bytes, to: path)
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data(bytes))
        let after = try XCTUnwrap(status(path))
        XCTAssertNotEqual(before.st_ino, after.st_ino, "replaced by rename, not rewritten in place")
        XCTAssertEqual(after.st_mode & 0o777, 0o600)
        XCTAssertEqual(entries(), ["out.json"], "no temporary left")
    }

    func testCharacterDevicesAreWrittenInPlaceNeverReplaced() throws {
        let before = try XCTUnwrap(status("/dev/null"))
        try OutputFile.write(bytes, to: "/dev/null")
        XCTAssertEqual(try OutputFile.destination(of: "/dev/null"), .inPlace("/dev/null"))
        let after = try XCTUnwrap(status("/dev/null", follow: false))
        XCTAssertEqual(after.st_mode & S_IFMT, S_IFCHR)
        XCTAssertEqual(after.st_ino, before.st_ino)
        XCTAssertEqual(after.st_rdev, before.st_rdev)
    }

    func testDevFullFailsWithENOSPCAndStaysADevice() throws {
        guard let before = status("/dev/full"), before.st_mode & S_IFMT == S_IFCHR else {
            throw XCTSkip("no /dev/full character device here")
        }
        let error = try XCTUnwrap(refusal("/dev/full"))
        XCTAssertEqual(error.errno, .ENOSPC)
        XCTAssertEqual(error.description, "cannot write /dev/full: write: ENOSPC: No space left on device")
        let after = try XCTUnwrap(status("/dev/full", follow: false))
        XCTAssertEqual(after.st_mode & S_IFMT, S_IFCHR)
        XCTAssertEqual(after.st_ino, before.st_ino)
    }

    func testAFIFOIsWrittenToItsReader() throws {
        let fifo = directory + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        final class Received: @unchecked Sendable { var data = Data() }
        let received = Received()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            // Blocks until the writer opens its end; reads to EOF.
            if let handle = FileHandle(forReadingAtPath: fifo) { received.data = handle.readDataToEndOfFile() }
            done.signal()
        }
        try OutputFile.write(bytes, to: fifo)
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(received.data, Data(bytes))
        XCTAssertEqual((try XCTUnwrap(status(fifo, follow: false))).st_mode & S_IFMT, S_IFIFO, "still a FIFO")
        XCTAssertEqual(entries(), ["pipe"])
    }

    func testASymlinkIsWrittenThroughAndStaysALink() throws {
        let target = directory + "/real.json"
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        XCTAssertEqual(symlink("real.json", directory + "/link.json"), 0)  // relative, as people make them
        try OutputFile.write(bytes, to: directory + "/link.json")
        XCTAssertEqual((try XCTUnwrap(status(directory + "/link.json", follow: false))).st_mode & S_IFMT, S_IFLNK)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/link.json"), "real.json")
        XCTAssertEqual(FileManager.default.contents(atPath: target), Data(bytes))
        XCTAssertEqual(entries(), ["link.json", "real.json"])
        // A link to a link to /dev/null: written in place at the end of the chain.
        XCTAssertEqual(symlink("/dev/null", directory + "/null1"), 0)
        XCTAssertEqual(symlink("null1", directory + "/null2"), 0)
        XCTAssertEqual(try OutputFile.destination(of: directory + "/null2"), .inPlace("/dev/null"))
    }

    func testDirectoriesSocketsLoopsAndMissingDirectoriesAreRefusedByErrnoName() throws {
        let dir = directory + "/dir"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        XCTAssertEqual(refusal(dir)?.description, "cannot write \(dir): open: EISDIR: Is a directory")

        let socketPath = directory + "/sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(refusal(socketPath)?.description,
                       "cannot write \(socketPath): open: ENXIO: No such device or address (a socket)")

        XCTAssertEqual(symlink("loop-b", directory + "/loop-a"), 0)
        XCTAssertEqual(symlink("loop-a", directory + "/loop-b"), 0)
        XCTAssertEqual(refusal(directory + "/loop-a")?.errno, .ELOOP)
        XCTAssertEqual(refusal(directory + "/no/such/dir/out.json")?.errno, .ENOENT)
        let file = directory + "/plain"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data()))
        XCTAssertEqual(refusal(file + "/out.json")?.errno, .ENOTDIR)
        XCTAssertEqual(refusal(directory + "/" + String(repeating: "n", count: 300))?.errno, .ENAMETOOLONG)
        XCTAssertEqual(entries(), ["dir", "loop-a", "loop-b", "plain", "sock"], "nothing was written")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testAReadOnlyFileSystemIsRefusedWithEROFSAndTheOldFileKept() throws {
        let mountPoint = directory + "/ro"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        guard mount("tmpfs", mountPoint, "tmpfs", 0, nil) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (errno \(KernelErrno(rawValue: errno).name)): needs CAP_SYS_ADMIN")
        }
        defer { umount(mountPoint) }
        try Data("old".utf8).write(to: URL(fileURLWithPath: mountPoint + "/out.json"))
        guard mount("tmpfs", mountPoint, "tmpfs", UInt(MS_REMOUNT | MS_RDONLY), nil) == 0 else {
            throw XCTSkip("cannot remount the tmpfs read-only (errno \(errno))")
        }
        let error = try XCTUnwrap(refusal(mountPoint + "/out.json"))
        XCTAssertEqual(error.errno, .EROFS)
        XCTAssertTrue(error.description.hasSuffix(": open: EROFS: Read-only file system"), error.description)
        XCTAssertEqual(FileManager.default.contents(atPath: mountPoint + "/out.json"), Data("old".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mountPoint), ["out.json"])
    }

    func testTheDashIsStandardOutputAndTheEmptyPathIsRefused() throws {
        XCTAssertEqual(try OutputFile.destination(of: "-"), .standardOutput)
        XCTAssertEqual(refusal("")?.errno, .ENOENT)
    }
}

/// swift-system's Errno and KernelErrno are one table.
final class ErrnoBridgeTests: XCTestCase {
    func testSwiftSystemErrnosPrintByName() {
        XCTAssertEqual(KernelErrno(Errno.readOnlyFileSystem).nameAndMessage, "EROFS: Read-only file system")
        XCTAssertEqual(KernelErrno(Errno.isDirectory).name, "EISDIR")
        XCTAssertEqual(KernelErrno(Errno.noSpace).name, "ENOSPC")
        XCTAssertEqual(KernelErrno(Errno.fileNameTooLong).name, "ENAMETOOLONG")
        XCTAssertEqual(KernelErrno(Errno.tooManySymbolicLinkLevels).name, "ELOOP")
        XCTAssertEqual(KernelErrno(Errno.notDirectory).name, "ENOTDIR")
    }
}
