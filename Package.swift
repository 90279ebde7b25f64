// swift-tools-version:6.0
import PackageDescription

// Layout (see docs/architecture.md):
//   CTimerSyscalls    fixed-argument C wrappers for variadic syscall/prctl/ptrace
//   CTimerInject      the ptrace injection engine: syscalls made by a live process
//   TimerCore         portable core: errno, clocks, sigevents, checkpoint format,
//                     /proc parser, the TimerKernel protocol, restore strategies
//   ModelKernel       the simulated kernel and its five profiles (pure Swift)
//   HostKernel        the real kernel: syscalls, /proc reading, ptrace, helpers
//   TimerCRIUCommands the command tree, one file per subcommand
//   timer-criu        the executable; timer-fixture creates timers for tests/demos
let package = Package(
    name: "timer-criu",
    products: [
        .executable(name: "timer-criu", targets: ["timer-criu"]),
        .executable(name: "timer-fixture", targets: ["timer-fixture"]),
        .executable(name: "timer-target", targets: ["timer-target"]),
        .library(name: "TimerCore", targets: ["TimerCore"]),
        .library(name: "ModelKernel", targets: ["ModelKernel"]),
        .library(name: "HostKernel", targets: ["HostKernel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        .target(name: "CTimerSyscalls"),
        .target(name: "CTimerInject"),
        .target(name: "TimerCore"),
        .target(name: "ModelKernel", dependencies: ["TimerCore"]),
        .target(name: "HostKernel", dependencies: [
            "TimerCore", "CTimerSyscalls", "CTimerInject", .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(
            name: "TimerCRIUCommands",
            dependencies: [
                "TimerCore", "ModelKernel", "HostKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "timer-criu", dependencies: ["TimerCRIUCommands"]),
        .executableTarget(name: "timer-fixture", dependencies: ["TimerCore", "HostKernel", "CTimerSyscalls"]),
        // Benchmarks run by Scripts/bench.sh (release build), docs/performance.md.
        .executableTarget(name: "timer-criu-bench", dependencies: ["TimerCore", "ModelKernel", "HostKernel", "CTimerSyscalls"]),
        // A victim for dump --values tests: counts its timer signals, checksums its work.
        .executableTarget(name: "timer-target", dependencies: ["CTimerSyscalls", "CTimerInject"]),
        // Helpers shared by the test targets: spawning the fixture, running the binary.
        .target(name: "TestSupport", dependencies: ["TimerCore", "CTimerSyscalls"], path: "Tests/TestSupport"),
        .testTarget(name: "TimerCoreTests", dependencies: ["TimerCore", "HostKernel", "TestSupport"]),
        .testTarget(name: "ModelKernelTests", dependencies: ["ModelKernel", "TimerCore", "TestSupport"]),
        .testTarget(name: "HostKernelTests", dependencies: [
            "HostKernel", "ModelKernel", "TimerCore", "CTimerSyscalls", "CTimerInject", "TestSupport",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .testTarget(name: "CLITests", dependencies: ["TimerCRIUCommands", "TimerCore", "ModelKernel", "HostKernel", "CTimerSyscalls", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
