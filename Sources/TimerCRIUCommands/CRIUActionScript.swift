import ArgumentParser
import TimerCore

/// `timer-criu criu action-script`: run by CRIU at each stage of a restore.
public struct CRIUActionScript: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "action-script",
        abstract: "CRIU's --action-script for a directory written by criu strip: puts the timers back after the restore.")

    public init() {}

    public func run() throws {}
}
