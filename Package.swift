// swift-tools-version:6.0
import PackageDescription

// Layout (see docs/architecture.md):
//   CTimerSyscalls    fixed-argument C wrappers for variadic syscall/prctl/ptrace
//   CTimerInject      the ptrace injection engine: syscalls made by a live process
//   TimerCore         the core, pure Swift: errno, clocks, sigevents, the checkpoint
//                     model, /proc parsers, the TimerKernel protocol, strategies, restore
//   TimerFormats      bytes in and out: checkpoint JSON, CRIU images, report output
//   TimerComparison   compare's matrix, sweep, costs and SVG; kernel memory; simulate
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
        .library(name: "TimerFormats", targets: ["TimerFormats"]),
        .library(name: "TimerComparison", targets: ["TimerComparison"]),
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
        .target(name: "TimerFormats", dependencies: ["TimerCore"]),
        .target(name: "TimerComparison", dependencies: ["TimerCore", "TimerFormats"]),
        .target(name: "ModelKernel", dependencies: ["TimerCore"]),
        .target(name: "HostKernel", dependencies: [
            "TimerCore", "TimerFormats", "TimerComparison", "CTimerSyscalls", "CTimerInject", .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(
            name: "TimerCRIUCommands",
            dependencies: [
                "TimerCore", "TimerFormats", "TimerComparison", "ModelKernel", "HostKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "timer-criu", dependencies: ["TimerCRIUCommands"]),
        .executableTarget(name: "timer-fixture", dependencies: ["TimerCore", "TimerFormats", "HostKernel", "CTimerSyscalls"]),
        // Benchmarks run by Scripts/bench.sh (release build), docs/performance.md.
        .executableTarget(name: "timer-criu-bench", dependencies: ["TimerCore", "TimerFormats", "TimerComparison", "ModelKernel", "HostKernel", "CTimerSyscalls"]),
        // A victim for dump --values tests: counts its timer signals, checksums its work.
        .executableTarget(name: "timer-target", dependencies: ["CTimerSyscalls", "CTimerInject"]),
        // Helpers shared by the test targets: spawning the fixture, running the binary.
        .target(name: "TestSupport", dependencies: ["TimerCore", "TimerFormats", "CTimerSyscalls"], path: "Tests/TestSupport"),
        .testTarget(name: "TimerCoreTests", dependencies: ["TimerCore", "TimerFormats", "TimerComparison", "HostKernel", "TestSupport"]),
        .testTarget(name: "ModelKernelTests", dependencies: ["ModelKernel", "HostKernel", "TimerCore", "TimerFormats", "TimerComparison", "TestSupport"]),
        .testTarget(name: "HostKernelTests", dependencies: [
            "HostKernel", "ModelKernel", "TimerCore", "TimerFormats", "TimerComparison", "CTimerSyscalls", "CTimerInject", "TestSupport",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .testTarget(name: "CLITests", dependencies: ["TimerCRIUCommands", "TimerCore", "TimerFormats", "TimerComparison", "ModelKernel", "HostKernel", "CTimerSyscalls", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
