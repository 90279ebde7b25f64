import Foundation
import TimerCore

/// A zombie for dump error tests: a python3 parent forks a child that exits at
/// once and never reaps it (python installs no SIGCHLD handler). A shell would
/// not do: dash reaps finished background jobs before `exec`, so a zombie seen
/// once could vanish before the dump.
public struct Zombie {
    public let pid: Int32
    let parent: Process

    public init() throws {
        parent = Process()
        parent.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        parent.arguments = ["python3", "-c", """
            import os, time
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            print(pid, flush=True)
            time.sleep(60)
            """]
        let pipe = Pipe()
        parent.standardOutput = pipe
        try parent.run()
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        guard let pid = Int32(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            Foundation.kill(parent.processIdentifier, SIGKILL)
            parent.waitUntilExit()
            throw TestSupportError("no zombie pid from python3: \(line.debugDescription)")
        }
        self.pid = pid
        for _ in 0..<300 {
            let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat").flatMap { try? ProcStat(Array($0)) }
            if stat?.state == "Z" { return }
            usleep(10_000)
        }
        kill()
        throw TestSupportError("pid \(pid) did not become a zombie")
    }

    /// Kills exactly the parent; init then reaps the zombie.
    public func kill() {
        Foundation.kill(parent.processIdentifier, SIGKILL)
        parent.waitUntilExit()
    }
}
