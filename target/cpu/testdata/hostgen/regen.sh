#!/bin/sh
# regen.sh: rebuild the host-derived test tables of target/cpu on this
# machine and diff them with the tables as committed.
#
#   target/cpu/testdata/hostgen/regen.sh [table ...]
#
# tables: x87host f80 sseelement sseunmasked ssenative (default: all).
# Needs gcc on an x86-64 Linux host. The committed values were recorded
# on an AMD EPYC; another processor (Intel in particular) may differ in
# implementation-specific results (FSIN/FPATAN last bits, RCPPS, FIP/FDP),
# so a difference is something to look at, not necessarily a bug. This is
# a manual tool; go test never runs it (testdata is ignored by the go tool).
#
# Set OUT=dir to keep the regenerated rows (OUT/<table>.rows) for pasting.
# Exit status: 0 if every table matched, 1 otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cpu=$here/../..
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${OUT:-$work}
mkdir -p "$out"
CC=${CC:-gcc}
status=0

# rows FILE: the table rows of a Go test file (lines starting "<tab>{\"").
rows() { grep "^	{\"" "$cpu/$1"; }

# check NAME WANT GOT: diff the committed rows with the regenerated ones.
check() {
	if diff -u "$2" "$3" >"$work/$1.diff"; then
		echo "$1: ok ($(wc -l <"$3") rows)"
	else
		echo "$1: DIFFERS from the committed table:"
		head -40 "$work/$1.diff"
		status=1
	fi
}

# x87_host_test.go: rows {"name", "asm", "init", "want", ignore, ulp}.
# The harness prints the row up to want; the ignore ranges (offsets from
# the buffer, want starting at 64) are masked with ".." on both sides.
x87host() {
	rows x87_host_test.go >"$work/x87.go"
	awk -F'"' '{printf "X(%d, \"%s\", \"%s\", \"%s\")\n", NR-1, $2, $4, $6}' \
		"$work/x87.go" >"$work/x87_cases.h"
	$CC -O1 -I"$work" -o "$work/x87host" "$here/x87host.c"
	"$work/x87host" >"$out/x87host.rows"
	mask='
	function maskrow(line, ign,   n, f, p, i, j, w) {
		n = split(line, f, "\"")
		w = f[8]
		while (match(ign, /\{[0-9]+, [0-9]+\}/)) {
			split(substr(ign, RSTART + 1, RLENGTH - 2), p, ", ")
			ign = substr(ign, RSTART + RLENGTH)
			for (j = p[1]; j < p[2]; j++)
				w = substr(w, 1, (j - 64) * 2) ".." substr(w, (j - 64) * 2 + 3)
		}
		return "\t{\"" f[2] "\", \"" f[4] "\", \"" f[6] "\", \"" w "\","
	}
	FNR == NR { split($0, g, "\""); ign[FNR] = g[9]; next }
	{ print maskrow($0, ign[FNR]) }'
	awk "$mask" "$work/x87.go" "$work/x87.go" >"$work/x87.want"
	awk "$mask" "$work/x87.go" "$out/x87host.rows" >"$work/x87.got"
	check x87host "$work/x87.want" "$work/x87.got"
}

# float80_test.go: {"op", fcw, ext{a}, ext{b}, ext{r}, sw, mask}.
f80() {
	rows float80_test.go >"$work/f80.go"
	$CC -O1 -o "$work/f80oracle" "$here/f80oracle.c"
	tr -d '{},"' <"$work/f80.go" | sed 's/ext//g; s/0x//g' |
		awk '{print $1, $2, $3, $4, $5, $6}' | "$work/f80oracle" >"$out/f80.rows"
	check f80 "$work/f80.go" "$out/f80.rows"
}

# sse_element_test.go: {"op", mxcsr, a, b, r, mxcsr after}.
sseelement() {
	rows sse_element_test.go >"$work/elem.go"
	$CC -O1 -o "$work/sse_element" "$here/sse_element.c"
	tr -d '{},"' <"$work/elem.go" | sed 's/0x//g' |
		awk '{print $1, $2, $3, $4}' | "$work/sse_element" >"$out/sseelement.rows"
	check sseelement "$work/elem.go" "$out/sseelement.rows"
}

# sse_unmasked_test.go: {"code", mxcsr, [4]uint64{in}, fault, mxcsr, x0, x1}, // mnemonic
# (gofmt aligns the trailing comments, so runs of blanks are squeezed).
sseunmasked() {
	rows sse_unmasked_test.go | tr -s ' ' >"$work/unm.go"
	$CC -O1 -o "$work/sse_unmasked" "$here/sse_unmasked.c"
	tr -d '{},"' <"$work/unm.go" | sed 's/\[4\]uint64//; s/0x//g' |
		awk '{print $NF, $2, $3, $4, $5, $6}' | "$work/sse_unmasked" >"$out/sseunmasked.rows"
	tr -s ' ' <"$out/sseunmasked.rows" >"$work/unm.got"
	check sseunmasked "$work/unm.go" "$work/unm.got"
}

# sse_native_table_test.go: {"asm", mxcsr, [4]uint64{xmm0, xmm1},
# [2]uint64{mm0, mm1}, rax, outputs...}.
ssenative() {
	rows sse_native_table_test.go >"$work/native.go"
	awk -F'"' '{
		e = $2; gsub(/%/, "%%", e)
		r = $3; gsub(/\[[0-9]\]uint64|[{}]/, "", r)
		n = split(r, f, ", ")
		printf "ROW(\"%s\", \"%s\"", e, $2
		for (i = 2; i <= 9; i++) printf ", %s", f[i]
		print ")"
	}' "$work/native.go" >"$work/sse_native_rows.h"
	$CC -O0 -I"$work" -o "$work/sse_native" "$here/sse_native.c"
	"$work/sse_native" >"$out/ssenative.rows"
	check ssenative "$work/native.go" "$out/ssenative.rows"
}

tables=${*:-x87host f80 sseelement sseunmasked ssenative}
echo "host: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
for t in $tables; do
	case $t in
	x87host | f80 | sseelement | sseunmasked | ssenative) $t ;;
	*) echo "unknown table $t" >&2; exit 2 ;;
	esac
done
exit $status
