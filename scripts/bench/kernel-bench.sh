#!/usr/bin/env bash
# kernel-bench.sh: the emulator's speed on scenario=bench (272 M guest
# instructions of compute and context switches), against QEMU 7.2 TCG's
# wall time for the same image and command line, measured in the same run.
# A benchmark, not a test: run it by hand on a quiet machine.
#
#   scripts/bench/kernel-bench.sh [RUNS]      (default RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/stub" ./cmd/stub

best() { # best CMD...: the shortest wall time of $runs runs, in seconds
	python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t0)
print("%.3f" % min(times))
PY
}

ours=$(best "$tmp/stub" --listen none --serial none --append scenario=bench)
qemu=$(best qemu-system-x86_64 -display none -no-reboot -serial none -monitor none \
	-device isa-debug-exit -kernel kernelimg/kernel.elf -append scenario=bench)
echo "scenario=bench, best of $runs wall-clock runs:"
echo "vmapstack stub --listen none: ${ours} s"
echo "QEMU 7.2 TCG:                 ${qemu} s"
go test -run '^$' -bench 'KernelBench$' -benchtime 3x ./target/cpu | grep -E 'Benchmark|instr/s'
