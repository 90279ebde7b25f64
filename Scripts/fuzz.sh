#!/usr/bin/env bash
# Runs one libFuzzer target for a given time (docs/reliability.md).
#
#   Scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags]
#   Scripts/fuzz.sh all SECONDS        each target in turn, SECONDS each
#   Scripts/fuzz.sh TARGET 0           replay the seed corpus and regressions only
#
# TARGET: proc-timers (the /proc/PID/timers parser), checkpoint-json (the
# timer-criu/1 loader and validation), criu-core (the CRIU image reader),
# timerfd-info (the timerfd /proc/PID/fdinfo/N parser), proc-status (the
# /proc/PID/status and /proc/PID/stat parsers), file-reader (every
# command's input files: JSON, FIFOs, symlinks, CRIU and tree directories),
# proc-file (dump --from-proc-file, whose output must load again),
# simulate-script (the simulate script parser), costs-file (compare --costs
# and the projections made with it).
#
# The harness (Fuzz/*.swift) is compiled with swiftc -sanitize=fuzzer,address
# together with every file of the pure modules Sources/TimerCore,
# Sources/TimerFormats and Sources/TimerComparison (no libraries beside the
# standard one) as one module named TimerCore, outside SwiftPM: copies of the
# files without their imports of each other. The targets that read real
# files (file-reader, proc-file) add HostKernel's file reader
# (HostInputFiles.swift, DirectoryListing.swift) and link swift-system,
# built once into .build-fuzz/system from SwiftPM's checkout. Seeds come from Fuzz/corpus/TARGET and the regression inputs in
# Tests/Fixtures/fuzz-regressions/TARGET; new inputs go to
# .build-fuzz/corpus/TARGET (not the repo); a crash input is written to
# .build-fuzz/artifacts/TARGET/ and the script exits non-zero. Turn such an
# input into a file under Tests/Fixtures/fuzz-regressions/TARGET/ (the
# FuzzRegressionTests replay them in `swift test`).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(proc-timers checkpoint-json criu-core timerfd-info proc-status file-reader proc-file simulate-script costs-file)
usage() { local IFS='|'; echo "usage: $0 ${targets[*]}|all SECONDS [libFuzzer flags]" >&2; exit 64; }
[[ $# -ge 2 ]] || usage
target=$1; seconds=$2; shift 2
[[ $seconds =~ ^[0-9]+$ ]] || usage

if [[ $target == all ]]; then
    for t in "${targets[@]}"; do "$0" "$t" "$seconds" "$@"; done
    exit 0
fi

case $target in
    proc-timers) harness=ProcTimersFuzz; max_len=4096 ;;
    checkpoint-json) harness=CheckpointJSONFuzz; max_len=8192 ;;
    criu-core) harness=CRIUImageFuzz; max_len=4096 ;;
    timerfd-info) harness=TimerFDInfoFuzz; max_len=1024 ;;
    proc-status) harness=ProcStatusFuzz; max_len=4096 ;;
    file-reader) harness=FileReaderFuzz; max_len=8192 ;;
    proc-file) harness=ProcFileFuzz; max_len=4096 ;;
    simulate-script) harness=SimulateScriptFuzz; max_len=2048 ;;
    costs-file) harness=CostsFileFuzz; max_len=2048 ;;
    *) usage ;;
esac

out=.build-fuzz
binary=$out/bin/$target
mkdir -p "$out/bin" "$out/corpus/$target" "$out/artifacts/$target"

# Rebuild when a source is newer than the binary.
sources=(Fuzz/$harness.swift $(find Sources/TimerCore Sources/TimerFormats Sources/TimerComparison -name '*.swift' | sort))
system_flags=()
case $target in
    file-reader|proc-file)
        sources+=(Sources/HostKernel/HostInputFiles.swift Sources/HostKernel/DirectoryListing.swift)
        checkout=.build/checkouts/swift-system
        [[ -d $checkout ]] || swift package resolve >&2
        system=$out/system
        if [[ ! -f $system/libSystemPackage.a ]]; then
            echo "fuzz.sh: building swift-system into $system" >&2
            mkdir -p "$system"
            # What swift-system's Package.swift sets: its availability macros and defines.
            availability=()
            for version in 0.0.1 0.0.2 0.0.3 1.1.0 1.1.1 1.2.0 1.2.1 1.3.0 1.3.1 1.3.2 1.4.0 1.7.0 199; do
                availability+=(-enable-experimental-feature "AvailabilityMacro=System $version:macOS 10.10, iOS 8.0, watchOS 2.0, tvOS 9.0, visionOS 1.0")
            done
            swiftc -O -parse-as-library -module-name SystemPackage -DSYSTEM_PACKAGE -enable-experimental-feature Lifetimes \
                "${availability[@]}" -I "$checkout/Sources/CSystem/include" \
                -emit-module -emit-module-path "$system/SystemPackage.swiftmodule" -emit-library -static \
                -o "$system/libSystemPackage.a" $(find "$checkout/Sources/System" -name '*.swift' | sort)
            # CSystem's C shims (dup3, pipe2 wrappers) go into the same archive.
            clang -O2 -c -I "$checkout/Sources/CSystem/include" "$checkout/Sources/CSystem/shims.c" -o "$system/shims.o"
            ar rcs "$system/libSystemPackage.a" "$system/shims.o"
        fi
        system_flags=(-I "$system" -I "$checkout/Sources/CSystem/include" "$system/libSystemPackage.a")
        ;;
esac
if [[ ! -x $binary ]] || [[ -n $(find "${sources[@]}" -newer "$binary" 2>/dev/null | head -1) ]]; then
    echo "fuzz.sh: building $binary" >&2
    # One module: the three modules' imports of each other go.
    rm -rf "$out/src/$target"
    copies=()
    for source in "${sources[@]}"; do
        copy=$out/src/$target/${source//\//_}
        mkdir -p "$out/src/$target"
        sed -E '/^(@testable )?import (TimerCore|TimerFormats|TimerComparison)$/d' "$source" > "$copy"
        copies+=("$copy")
    done
    sources=("${copies[@]}")
    # -O keeps Swift's overflow and bounds traps (only -Ounchecked drops them).
    swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name TimerCore -package-name timer_criu \
        "${sources[@]}" ${system_flags[@]+"${system_flags[@]}"} -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
fi

seeds=(Fuzz/corpus/$target)
[[ -d Tests/Fixtures/fuzz-regressions/$target ]] && seeds+=(Tests/Fixtures/fuzz-regressions/$target)
dict=()
[[ -f Fuzz/$target.dict ]] && dict=(-dict="Fuzz/$target.dict")

if [[ $seconds == 0 ]]; then
    # Replay only: each seed and regression input once.
    files=$(find "${seeds[@]}" -type f)
    exec "$binary" "${dict[@]}" $files
fi

# libFuzzer reads the first corpus dir and writes new inputs there; the seeds
# are merged in read-only.
exec "$binary" "$out/corpus/$target" "${seeds[@]}" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/artifacts/$target/" "$@"
