/// Why a checkpoint (JSON file or CRIU image) was refused. Printed as one line
/// naming the file and the problem; `timer-criu` exits 2 for all of them.
public struct CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file (or directory) the checkpoint came from, if any.
    public var path: String?
    /// What is wrong, e.g. "timers[3].id: 2147483648 is outside 0...2147483647".
    public var problem: String

    public init(path: String? = nil, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        if let path { return "\(path): \(problem)" }
        return problem
    }
}
