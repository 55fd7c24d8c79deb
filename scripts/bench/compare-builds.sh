#!/usr/bin/env bash
# compare-builds.sh: scenario=bench wall time and guest instructions per
# second of two builds of cmd/stub, measured in the same run: each build
# runs RUNS times, the two interleaved (base, new, base, new...), so load
# from elsewhere on the machine falls on both alike. Prints every run, the
# medians and their ratio. A benchmark, not a test: run it by hand.
#
#   scripts/bench/compare-builds.sh [RUNS] [BASE] [NEW]
#
# RUNS defaults to 5; BASE to 8d61e93 (the build before the speed work of
# issue 13); NEW to the working tree. BASE and NEW are any git revisions;
# a revision is built from `git archive` in a temporary directory (no
# worktree, nothing written to the repository).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
base=${2:-8d61e93}
new=${3:-}
append=${APPEND:-scenario=bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() { # build REV OUT: REV empty means the working tree
	if [ -z "$1" ]; then
		go build -o "$2" ./cmd/stub
		return
	fi
	local src="$tmp/src-$(basename "$2")"
	mkdir -p "$src"
	git archive "$1" | tar -x -C "$src"
	(cd "$src" && go build -o "$2" ./cmd/stub)
}
build "$base" "$tmp/base"
build "$new" "$tmp/new"

python3 - "$runs" "$tmp/base" "$tmp/new" "$append" "$base" "${new:-working tree}" <<'PY'
import statistics, subprocess, sys, time
runs, base, new, append, base_name, new_name = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
# scenario=bench retires the same instructions in every build (the
# machine is deterministic): 272,409,458 at commit 8d61e93.
instr = 272409458
times = {"base": [], "new": []}
for i in range(runs):
    for name, exe in (("base", base), ("new", new)):
        t0 = time.perf_counter()
        subprocess.run([exe, "--listen", "none", "--serial", "none", "--append", append],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        dt = time.perf_counter() - t0
        times[name].append(dt)
        print("run %d %-4s %.3f s  %.1f M instr/s" % (i + 1, name, dt, instr / dt / 1e6), flush=True)
mb, mn = statistics.median(times["base"]), statistics.median(times["new"])
print("%s (base): median %.3f s, %.1f M instr/s" % (base_name, mb, instr / mb / 1e6))
print("%s (new):  median %.3f s, %.1f M instr/s" % (new_name, mn, instr / mn / 1e6))
print("speed-up new/base (instr/s): %.2fx" % (mb / mn))
PY
