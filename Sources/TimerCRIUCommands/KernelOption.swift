import ArgumentParser
import ModelKernel

/// `--kernel`: a model profile (docs/model-kernel.md) or the real `host` kernel.
public enum KernelOption: Equatable, Sendable, ExpressibleByArgument, CustomStringConvertible {
    case model(KernelProfile)
    case host

    public init?(argument: String) {
        if argument == "host" { self = .host; return }
        guard let profile = KernelProfile(rawValue: argument) else { return nil }
        self = .model(profile)
    }

    public static var allValueStrings: [String] { KernelProfile.allCases.map(\.rawValue) + ["host"] }

    public var description: String {
        switch self {
        case .model(let profile): return profile.rawValue
        case .host: return "host"
        }
    }

    public var defaultValueDescription: String { description }
}

/// `--kernel` as restore and simulate take it.
struct KernelOptions: ParsableArguments {
    // The value list comes from ArgumentParser ("values: ..."), once.
    @Option(help: "A model kernel profile (see `timer-criu kernels`) or host.")
    var kernel: KernelOption = .model(.linux615)

    /// --kernel on the command line (its default is the model).
    var wasGiven: Bool { CommandLine.arguments.contains { $0 == "--kernel" || $0.hasPrefix("--kernel=") } }
}
