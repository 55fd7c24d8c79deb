#!/usr/bin/env bash
# linux-boot.sh: boot-to-reboot wall time of Debian's stock cloud kernel
# with the workload initramfs of the Linux boot tests (internal/linuxtest),
# in QEMU 7.2 TCG and in our stub, measured in the same run, and their
# ratio. A benchmark, not a test: run it by hand on a quiet machine.
#
#   scripts/bench/linux-boot.sh [RUNS]     (default RUNS=3; best of RUNS)
#
# QEMU is timed twice: plain TCG (the `qemu-system-x86_64 -kernel -initrd
# -append` users run) and with the tests' instruction clock (-icount
# shift=0,sleep=off, which our machine's clock is like). The stub runs
# OURS_RUNS times (default 1: it is the slow one) with --listen none;
# OURS_TIMEOUT (seconds, default 1800) bounds each run. A stub that does
# not reach the workload's end is reported, and QEMU's figures still print.
# Debian's packages come through apt-get download into the cache
# (internal/debian); nothing is written to the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
ours_runs=${OURS_RUNS:-1}
ours_timeout=${OURS_TIMEOUT:-1800}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== preparing (apt-get download into the cache, initramfs, go build ./cmd/stub)"
eval "$(go run ./internal/linuxtest/cmd/mkinitramfs -serial "$tmp/com1.log")"
# VMAPSTACK_STUB names a prebuilt stub instead, as for the tests.
stub=${VMAPSTACK_STUB:-$tmp/stub}
stub_built=1
if [ -z "${VMAPSTACK_STUB:-}" ] && ! go build -o "$stub" ./cmd/stub; then
	echo "go build ./cmd/stub failed: QEMU only" >&2
	stub_built=0
fi
# The tests' QEMU arguments without the instruction clock: plain TCG.
tcg_args=()
skip=0
for a in "${QEMU_ARGS[@]}"; do
	if [ $skip = 1 ]; then skip=0; continue; fi
	if [ "$a" = -icount ]; then skip=1; continue; fi
	tcg_args+=("$a")
done

# timed LOG TIMEOUT CMD...: run CMD with stdout to LOG, print its wall
# time in seconds, return its exit status.
timed() {
	python3 - "$@" <<'PY'
import subprocess, sys, time
log, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
with open(log, "wb") as out:
    t0 = time.perf_counter()
    try:
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = 124
    print("%.3f" % (time.perf_counter() - t0))
sys.exit(rc)
PY
}

# best RUNS NAME LOGFILE CONSOLEFILE TIMEOUT CMD...: best of RUNS
# successful runs (exit 0 and the workload's end marker on the console),
# or "failed".
best() {
	local n=$1 name=$2 log=$3 console=$4 timeout=$5
	shift 5
	local best="" t rc
	for _ in $(seq "$n"); do
		rm -f "$console"
		rc=0
		t=$(timed "$log" "$timeout" "$@") || rc=$?
		if [ "$rc" != 0 ] || ! grep -q '^=== vmapstack workload end' "$console" 2>/dev/null; then
			echo "$name: run failed (exit $rc, ${t}s); last lines:" >&2
			tail -n 8 "$log" "$console" 2>/dev/null | sed 's/^/    /' >&2
			echo failed
			return
		fi
		if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then
			best=$t
		fi
	done
	echo "$best"
}

echo "== kernel $RELEASE, append \"$APPEND\", best of $runs runs (ours: $ours_runs)"
qemu_tcg=$(best "$runs" "QEMU TCG" "$tmp/qemu.log" "$tmp/qemu.log" 300 qemu-system-x86_64 "${tcg_args[@]}")
qemu_icount=$(best "$runs" "QEMU TCG -icount" "$tmp/qemu.log" "$tmp/qemu.log" 300 qemu-system-x86_64 "${QEMU_ARGS[@]}")
ours=failed
if [ $stub_built = 1 ]; then
	ours=$(best "$ours_runs" "ours" "$tmp/stub.log" "$tmp/com1.log" "$ours_timeout" "$stub" "${STUB_ARGS[@]}")
fi

grep -m1 'model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: /host CPU: /'
echo "QEMU 7.2 TCG:                       ${qemu_tcg} s"
echo "QEMU 7.2 TCG -icount shift=0:       ${qemu_icount} s"
if [ "$ours" = failed ]; then
	echo "vmapstack stub --listen none:       did not build or boot to the workload's end (see above)"
else
	echo "vmapstack stub --listen none:       ${ours} s"
	if [ "$qemu_tcg" != failed ]; then
		python3 -c "print('ours / QEMU TCG:                    %.1fx' % ($ours / $qemu_tcg))"
	fi
fi
