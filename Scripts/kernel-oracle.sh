#!/usr/bin/env bash
# The linux-3.10 model profile against a real pre-6.15 kernel: boots Debian's
# Linux 6.1 cloud kernel under QEMU with a busybox initramfs holding the
# release timer-criu, runs there (simulate --kernel host, check, dump, restore)
# what this machine then runs on the linux-3.10 model, and compares.
# docs/model-kernel.md, "Checked against real kernels".
#
#   bash Scripts/kernel-oracle.sh [--seeds N] [--rtc-seeds N] [--bin DIR] [--keep]
#
# --seeds: random scripts on the machine without an RTC (default 20; the
# differential test runs 24 here), --rtc-seeds: the first N again with an RTC
# (default 6; the alarm and kernel-facts scripts run on both).
# --bin DIR takes timer-criu and timer-fixture from DIR (e.g. .build/debug)
# instead of building the release ones; --keep keeps the initramfs tree.
#
# Two boots: one without an RTC (initcall_blacklist=cmos_init, the model's
# default machine) and one with QEMU's CMOS RTC (the model's --rtc machine).
# Downloads are cached in ${XDG_CACHE_HOME:-~/.cache}/timer-criu/kernel-oracle,
# the run's files are in .build/kernel-oracle (console.log, results-*.raw).
# Ends with one line: kernel-oracle: N passed, M failed (exit 1 if M > 0), or
# kernel-oracle: skipped: REASON (exit 0) when QEMU, busybox or the kernel
# cannot be had (no package lists).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

seeds=20
rtc_seeds=6
keep=false
bin=
while [[ $# -gt 0 ]]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --rtc-seeds) rtc_seeds=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    --bin) bin=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: bash Scripts/kernel-oracle.sh [--seeds N] [--rtc-seeds N] [--bin DIR] [--keep]" >&2; exit 64 ;;
  esac
done
[[ $seeds =~ ^[0-9]+$ && $seeds -ge 1 ]] || { echo "kernel-oracle: --seeds needs a positive count" >&2; exit 64; }
[[ $rtc_seeds =~ ^[0-9]+$ && $rtc_seeds -le $seeds ]] || { echo "kernel-oracle: --rtc-seeds needs a count up to --seeds" >&2; exit 64; }

started=$(date +%s.%N)
work=$repo/.build/kernel-oracle
cache=${XDG_CACHE_HOME:-$HOME/.cache}/timer-criu/kernel-oracle
rm -rf "$work"   # nothing from an earlier run may be compared by mistake
mkdir -p "$work" "$cache"

skip() { echo "kernel-oracle: skipped: $*"; exit 0; }
note() { echo "kernel-oracle: $*" >&2; }

# --- What it needs: QEMU, a static busybox, the newest Debian 6.1 cloud kernel.
newest_kernel() {
  apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null \
    | awk '{print $1}' | sort -V | tail -1
}
command -v apt-get >/dev/null || skip "no apt-get (a Debian machine is needed for the 6.1 kernel package)"
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
kernel_package=$(newest_kernel)
updated=false
if [[ ${#missing[@]} -gt 0 || -z $kernel_package ]]; then
  note "apt-get update (for: ${missing[*]:-} ${kernel_package:-the kernel package})"
  apt-get update -qq >"$work/apt.log" 2>&1 || skip "apt-get update failed: package lists cannot be reached (see $work/apt.log)"
  updated=true
  kernel_package=$(newest_kernel)
fi
[[ -n $kernel_package ]] || skip "no linux-image-6.1.0-*-cloud-amd64 in the package lists (apt-get update could not reach them?)"
if [[ ${#missing[@]} -gt 0 ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$work/apt.log" 2>&1 \
    || skip "apt-get install ${missing[*]} failed (see $work/apt.log)"
fi
busybox=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -1)
file -L "$busybox" 2>/dev/null | grep -q "statically linked" || skip "$busybox is not a static busybox"

deb=$(ls "$cache/${kernel_package}"_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [[ -z $deb ]]; then
  note "downloading $kernel_package"
  download() { (cd "$cache" && apt-get download "$kernel_package" >>"$work/apt.log" 2>&1); }
  if ! download; then
    # Old ABI numbers leave the mirror: refresh the lists once and retry.
    $updated || { apt-get update -qq >>"$work/apt.log" 2>&1 || true; kernel_package=$(newest_kernel); }
    download || skip "apt-get download $kernel_package failed (see $work/apt.log)"
  fi
  deb=$(ls "$cache/${kernel_package}"_*.deb | sort -V | tail -1)
fi
kernel_dir=$cache/${kernel_package}
if [[ ! -d $kernel_dir/boot ]]; then
  mkdir -p "$kernel_dir"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kernel_dir" ./boot
fi
vmlinuz=$(ls "$kernel_dir"/boot/vmlinuz-* | head -1)
guest_release=${vmlinuz##*/vmlinuz-}

# --- The release binaries (built once; .ci/run has usually built timer-criu already).
if [[ -z $bin ]]; then
  for product in timer-criu timer-fixture; do
    swift build -c release --product $product >"$work/build.log" 2>&1 \
      || { grep -E "error" "$work/build.log" >&2; echo "kernel-oracle: the release build of $product failed" >&2; exit 1; }
  done
  bin=$(swift build -c release --show-bin-path)
fi
tool=$bin/timer-criu
built=$(date +%s.%N)
[[ -x $tool && -x $bin/timer-fixture ]] || { echo "kernel-oracle: no timer-criu and timer-fixture in $bin" >&2; exit 1; }

# --- The initramfs: busybox, both binaries with the shared libraries ldd
# lists at the same paths, the scripts, and /init.
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,oracle/bin,oracle/scripts}
cp "$busybox" "$root/bin/busybox"
cp "$tool" "$bin/timer-fixture" "$root/oracle/bin/"
for lib in $(ldd "$tool" "$bin/timer-fixture" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

scripts=()
for seed in $(seq 1 "$seeds"); do scripts+=("seed-$seed"); "$tool" simulate --generate "$seed" >"$root/oracle/scripts/seed-$seed.sim"; done
scripts+=(kernel-facts alarms)
rtc_scripts=(kernel-facts alarms)
for seed in $(seq 1 "$rtc_seeds"); do rtc_scripts+=("seed-$seed"); done
"$tool" simulate --generate kernel-facts >"$root/oracle/scripts/kernel-facts.sim"
"$tool" simulate --generate alarms >"$root/oracle/scripts/alarms.sim"
# Close to the guest's RLIMIT_SIGPENDING (about 3,850 at 1 GiB) would be slow
# under emulation: the script lowers the limit to 40 instead, on both sides.
sigpending_limit=40
"$tool" simulate --generate "sigpending:$sigpending_limit" >"$root/oracle/scripts/sigpending.sim"

# The fixture: holes in the IDs (deleted timers), every notify kind, a NULL
# sigevent, a CPU clock, armed one-shot and periodic timers.
fixture=(
  clock=monotonic,signal=14,value=0x1111,arm=100s,interval=5s
  clock=monotonic,count=6,delete=1
  clock=realtime,signal=40,value=0xdeadbeefcafe,arm=200s
  clock=boottime,notify=none,signal=0
  clock=monotonic,count=300,delete=1
  clock=monotonic,notify=thread_id,signal=34,arm=50ms,interval=10ms
  sigevent=null,clock=tai
  clock=process-cputime,notify=none,arm=1000s
  clock=realtime,count=1000,delete=1
  clock=boottime,notify=signal,signal=64,value=0xffffffffffffffff,arm=3600s,interval=1s
)

{
  echo "run uname uname -r"
  echo "run check timer-criu check"
  echo "run check-json timer-criu check --json"
  for name in "${scripts[@]}"; do
    [[ " ${rtc_scripts[*]} " == *" $name "* ]] || echo -n "[ \$mode = no-rtc ] && "
    echo "run $name timer-criu simulate --kernel host --threads 2 /oracle/scripts/$name.sim"
  done
  echo "[ \$mode = no-rtc ] && run sigpending timer-criu simulate --kernel host --threads 2 --sigpending-limit $sigpending_limit /oracle/scripts/sigpending.sim"
  echo "[ \$mode = no-rtc ] && fixture_jobs ${fixture[*]}"
} >"$root/oracle/jobs.sh"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# The guest's init: every command's output goes to /dev/ttyS1 (the second
# serial port, a file on the host) between "=== begin NAME" and "=== end NAME rc=N".
/bin/busybox --install -s /bin
export PATH=/oracle/bin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ip link set lo up
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
mode=rtc
grep -q initcall_blacklist=cmos_init /proc/cmdline && mode=no-rtc
uptime() { read up idle </proc/uptime; echo $up; }
run() {
  name=$1; shift
  echo "=== begin $name" >&3
  before=$(uptime)
  timeout 60 "$@" >&3 2>/tmp/stderr
  rc=$?
  echo "=== stderr" >&3
  cat /tmp/stderr >&3
  echo "=== end $name rc=$rc seconds=$before-$(uptime)" >&3
}
fixture_jobs() {
: >/tmp/fixture.out
  timer-fixture "$@" >/tmp/fixture.out 2>&1 &
  fixture=$!
  i=0
  while ! grep -q '^ready ' /tmp/fixture.out && kill -0 $fixture 2>/dev/null && [ $i -lt 600 ]; do
    sleep 0.1; i=$((i + 1))
  done
  run fixture cat /tmp/fixture.out
  run dump timer-criu dump "$(sed -n 's/^ready //p' /tmp/fixture.out)" --values -o /tmp/checkpoint.json
  kill $fixture
  run checkpoint cat /tmp/checkpoint.json
  for strategy in dance create-at-id auto; do
    run restore-$strategy timer-criu restore /tmp/checkpoint.json --kernel host --strategy $strategy --json
  done
}
echo "=== mode $mode at $(uptime)" >&3
. /oracle/jobs.sh
echo "=== done at $(uptime)" >&3
sync
reboot -f
EOF
chmod +x "$root/init"
# Uncompressed: the emulated kernel unpacks a gzipped one (35 MB) 4 s slower.
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null >"$work/initramfs.cpio")

# --- Boot: TCG unless the CPU has real hardware virtualization (a /dev/kvm
# backed by a software virtualizer does not boot a stock kernel).
accel=(-accel tcg,thread=multi)
if grep -qwE 'vmx|svm' /proc/cpuinfo && [[ -w /dev/kvm ]]; then accel=(-accel kvm -cpu host); fi
boot() { # MODE EXTRA_CMDLINE
  local mode=$1 cmdline="console=ttyS0 quiet panic=-1 $2"
  rm -f "$work/results-$mode.raw"
  timeout 170 qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 -nographic -no-reboot -monitor none -nic none \
    -kernel "$vmlinuz" -initrd "$work/initramfs.cpio" -append "$cmdline" \
    -serial "file:$work/console-$mode.log" \
    -chardev "file,id=results,path=$work/results-$mode.raw" -serial chardev:results \
    </dev/null >/dev/null 2>"$work/qemu-$mode.err" || note "QEMU ($mode) exited with $? (see $work/qemu-$mode.err, $work/console-$mode.log)"
}
boot_started=$(date +%s.%N)
boot no-rtc initcall_blacklist=cmos_init
boot rtc ""
boot_seconds=$(awk "BEGIN { print $(date +%s.%N) - $boot_started }")

# The host's fixture (Linux $(uname -r)) for the dump comparison.
"$bin/timer-fixture" "${fixture[@]}" >"$work/host-fixture.out" 2>&1 &
host_fixture=$!
for _ in $(seq 300); do grep -q '^ready ' "$work/host-fixture.out" && break; kill -0 $host_fixture 2>/dev/null || break; sleep 0.1; done
"$tool" dump "$(sed -n 's/^ready //p' "$work/host-fixture.out")" --values -o "$work/host-checkpoint.json" 2>"$work/host-dump.err" || true
kill $host_fixture 2>/dev/null || true
wait $host_fixture 2>/dev/null || true

status=0
python3 "$repo/Scripts/kernel-oracle-compare.py" --tool "$tool" --work "$work" \
  --scripts "$root/oracle/scripts" --sigpending-limit "$sigpending_limit" --guest-release "$guest_release" \
  --rtc-scripts "${rtc_scripts[*]}" --accel "${accel[1]%%,*}" --boot-seconds "$boot_seconds" --started "$started" --built "$built" || status=$?
$keep || rm -rf "$root" "$work/initramfs.cpio"
exit $status
