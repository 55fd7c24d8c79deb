#!/bin/busybox sh
# The /init of vmapstack's Linux boot test (internal/linuxtest). The kernel
# runs it as PID 1 from the initramfs. It exercises user space the way a
# real system does: floating point (busybox awk on SSE2 doubles and glibc's
# printf), hashing, compression, fork/exec/wait, /proc and the shell. What
# it prints between the workload markers must be the same on every run and
# on every machine that implements the CPU correctly: no times, no PIDs
# other than 1, no addresses. workload.go computes the expected lines.
export PATH=/bin
mount -t proc proc /proc

section() { echo "--- $1"; }

float() {
	section float
	awk 'BEGIN {
		s = 0; for (i = 1; i <= 1000; i++) s += 0.1
		printf "sum 0.1 x1000: %.17g\n", s
		h = 0; for (i = 1; i <= 2000; i++) h += 1 / i
		printf "harmonic 2000: %.17g %e %f\n", h, h, h
		p = 1; for (i = 1; i <= 25; i++) p *= i + 0.5
		printf "product: %.17g %e\n", p, p
		q = 1; for (i = 0; i < 60; i++) q /= 3
		printf "third^60: %.17g %e\n", q, q
		d = 1e-300 / 1e10
		printf "subnormal: %.17g %e %g\n", d, d, d * 1e10
		printf "div: %.17g %.17g %.17g %.17g\n", 1/3, 2/3, 22/7, -1/7
		printf "fmt: %f %.3f %10.4f %-12.5e| %g %G %.0f %.0f %.0f\n", 3.14159265358979, 2.0005, -1.5, 12345.678, 0.0001, 1e20, 0.5, 1.5, 2.5
		x = 1; for (i = 0; i < 50; i++) x = x * 1.1 - 0.05
		printf "recurrence: %.17g\n", x
		printf "big: %.17g %.17g\n", 2147483647 * 4294967296, 1e300 * 1e8
		printf "compare: %d %d %d\n", (0.1 + 0.2 == 0.3), (0.1 + 0.2 > 0.3), (1 / 3 * 3 == 1)
		printf "int: %d %d %d\n", int(7.9), int(-7.9), int(1e9 / 7)
		print "print:", 0.1 + 0.2, 1 / 3, 1e6 * 1e6, 100 / 8
	}'
	echo "1.5 2.25 -3.125" | awk '{ printf "fields: %.17g %.17g\n", $1 * $2 * $3, $1 / $3 }'
	seq 1 1000 | awk '{ s += $1 / 7; t += $1 * $1 * 0.001 } END { printf "column: %.17g %.17g\n", s, t }'
}

gendata() {
	i=0
	while [ $i -lt 3000 ]; do
		echo "vmapstack line $i $((i * i % 9973)) $(((i << 3) ^ 0x5a5a))"
		i=$((i + 1))
	done
}

hashes() {
	section hash
	gendata >/tmp/data
	echo "bytes: $(wc -c </tmp/data)"
	md5sum /tmp/data
	sha1sum /tmp/data
	sha256sum /tmp/data
	sha512sum /tmp/data
}

compression() {
	section gzip
	# From stdin, so the header holds no file time.
	gzip -c </tmp/data >/tmp/data.gz
	echo "gzip -6 bytes: $(wc -c </tmp/data.gz)"
	echo "gzip -6 md5: $(md5sum </tmp/data.gz)"
	echo "round trip -6: $(gunzip -c /tmp/data.gz | md5sum)"
	echo "round trip -1: $(gzip -1 -c </tmp/data | gunzip -c | md5sum)"
	echo "round trip -9: $(gzip -9 -c </tmp/data | gunzip -c | md5sum)"
	gzip -t /data/go.gz && echo "go.gz: intact"
	echo "go.gz: $(gunzip -c /data/go.gz | md5sum)"
}

processes() {
	section fork
	total=0
	i=1
	while [ $i -le 40 ]; do
		v=$( (echo "$((i * 3))") )
		total=$((total + v))
		i=$((i + 1))
	done
	echo "subshells: 40 sum $total"
	echo "pipeline: $(seq 1 200 | sed 's/$/x/' | tr x y | grep -c y)"
	/bin/busybox sh -c 'exit 7'
	echo "exec exit status: $?"
	(exit 3) &
	wait $!
	echo "wait status: $?"
	for i in 1 2 3 4 5; do
		(echo "background $i" >/tmp/bg$i) &
	done
	wait
	cat /tmp/bg1 /tmp/bg2 /tmp/bg3 /tmp/bg4 /tmp/bg5
	/bin/busybox sh -c '/bin/busybox sh -c "/bin/busybox echo nested exec: \$((6 * 7))"'
	seq 1 12 | xargs -n 4 echo "xargs:"
	echo "pid of init: $$"
}

procfs() {
	section proc
	grep -E '^(vendor_id|cpu family|model|model name|stepping|fpu|fpu_exception|cpuid level|wp|address sizes)[[:space:]]' /proc/cpuinfo
	for f in fpu tsc cx8 cmov mmx fxsr sse sse2 pni cx16 syscall nx lm lahf_lm; do
		if grep -qw "$f" /proc/cpuinfo; then echo "flag $f: yes"; else echo "flag $f: no"; fi
	done
	# MemTotal in whole MiB: its last pages depend on where KASLR put the
	# kernel, which depends on the TSC at boot (logs.go, "Memory:").
	awk '/^MemTotal:/ { printf "MemTotal: %d MiB\n", $2 / 1024 }
		/^(SwapTotal|HugePages_Total|Hugepagesize):/ { print "meminfo", $1, $2 }' /proc/meminfo
	echo "cmdline: $(cat /proc/cmdline)"
	echo "ostype: $(cat /proc/sys/kernel/ostype)"
	echo "osrelease: $(cat /proc/sys/kernel/osrelease)"
	echo "machine: $(uname -m)"
	# comm, state, ppid, priority, nice, num_threads of the reader itself
	awk '{ print "self stat:", $2, $3, $4, $18, $19, $20 }' /proc/self/stat
	grep ' /proc ' /proc/mounts
}

shell() {
	section shell
	fact=1
	i=1
	while [ $i -le 20 ]; do
		fact=$((fact * i))
		i=$((i + 1))
	done
	echo "20!: $fact"
	a=0
	b=1
	i=0
	while [ $i -lt 90 ]; do
		t=$((a + b))
		a=$b
		b=$t
		i=$((i + 1))
	done
	echo "fib 90: $a"
	n=27
	steps=0
	while [ $n -ne 1 ]; do
		case $((n % 2)) in
		0) n=$((n / 2)) ;;
		*) n=$((3 * n + 1)) ;;
		esac
		steps=$((steps + 1))
	done
	echo "collatz 27: $steps steps"
	echo "arith: $((-17 / 5)) $((-17 % 5)) $((1 << 62)) $((0xff ^ 0x0f)) $((7 > 3 && 2 > 5)) $((0x7fffffff * 3))"
	while read -r name value; do
		echo "heredoc: $name=$((value * 2))"
	done <<EOF
alpha 1
beta 21
gamma 333
EOF
	s=vmapstack-linux-workload
	echo "strings: ${#s} ${s%%-*} ${s#*-} ${s%-*}"
	f() { if [ "$1" -le 1 ]; then echo 1; else echo $(($1 * $(f $(($1 - 1))))); fi; }
	echo "recursion: $(f 12)"
	printf 'printf: %05d|%-6s|%x|%o|%s\n' 42 ab 255 8 "$(echo a b | tr ' ' _)"
}

workload() {
	float
	hashes
	compression
	processes
	procfs
	shell
	echo "--- status"
}

workload >/tmp/workload.out 2>&1
status=$?
# Only emergencies on the console from here, so no kernel message lands
# inside the blocks below; the whole log follows from dmesg.
dmesg -n 1
echo "=== vmapstack workload begin"
cat /tmp/workload.out
echo "exit status: $status"
echo "=== vmapstack workload end"
echo "=== vmapstack dmesg begin"
dmesg
echo "=== vmapstack dmesg end"
reboot -f
