#!/usr/bin/env bash
# stepi-rate.sh: single-step rate of our stub against QEMU's gdbstub on the
# same kernel image: N `stepi` from a gdb Python loop (no console output per
# step), after running both to the same breakpoint. Prints both rates and
# their ratio. A benchmark, not a test: run it by hand.
#
#   scripts/bench/stepi-rate.sh [N]      (default N=5000)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-5000}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -o "$tmp/stub" ./cmd/stub
kernel=kernelimg/kernel.elf
append="scenario=bench"

cat >"$tmp/steps.py" <<PY
import gdb, time
gdb.execute("break switch_to")
gdb.execute("continue")
gdb.execute("delete")
t0 = time.perf_counter()
for _ in range($n):
    gdb.execute("stepi", to_string=True)
dt = time.perf_counter() - t0
print("RATE %.1f" % ($n / dt))
PY

rate() { # rate ADDR: runs the loop against the stub at ADDR
	gdb -batch -nx -ex "file $kernel" -ex "target remote $1" -x "$tmp/steps.py" 2>&1 |
		sed -n 's/^RATE //p'
}

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Ours over TCP (what QEMU offers, so the ratio compares like with like)
# and over a unix socket (what a local user can choose).
port=$(freeport)
# Each peer is stopped after its run: gdb detaches at exit and a detached
# machine runs on, which would load the CPU under the next measurement.
"$tmp/stub" --listen "127.0.0.1:$port" --append "$append" --serial none 2>/dev/null &
pid=$!
sleep 1
ours=$(rate "127.0.0.1:$port")
kill $pid; wait $pid 2>/dev/null || true
port=$(freeport)
"$tmp/stub" --listen "127.0.0.1:$port" --append "$append" --serial none --busy-poll 300us 2>/dev/null &
pid=$!
sleep 1
polled=$(rate "127.0.0.1:$port")
kill $pid; wait $pid 2>/dev/null || true
"$tmp/stub" --listen "unix:$tmp/stub.sock" --append "$append" --serial none 2>/dev/null &
pid=$!
for _ in $(seq 50); do [ -S "$tmp/stub.sock" ] && break; sleep 0.1; done
unix=$(rate "$tmp/stub.sock")
kill $pid; wait $pid 2>/dev/null || true

port=$(freeport)
qemu-system-x86_64 -display none -no-reboot -serial none -monitor none -device isa-debug-exit \
	-kernel "$kernel" -append "$append" -S -gdb "tcp:127.0.0.1:$port" &
sleep 1
theirs=$(rate "127.0.0.1:$port")

echo "stepi x $n"
echo "vmapstack stub, TCP:  $ours steps/s"
echo "vmapstack stub, TCP, --busy-poll 300us: $polled steps/s"
echo "vmapstack stub, unix: $unix steps/s"
echo "QEMU 7.2 TCG, TCP:    $theirs steps/s"
python3 -c "print('ratio (ours/QEMU, both TCP): %.2f' % ($ours / $theirs))"
