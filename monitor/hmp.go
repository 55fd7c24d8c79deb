package monitor

// QEMU's HMP commands (docs/design.md §7, issue 12): `info mem`, `info tlb`,
// `xp /FMT ADDR`, `x /FMT ADDR` and `gva2gpa ADDR`, printed byte for byte
// as QEMU 7.2 prints them, because front ends written for QEMU's gdb stub
// (GEF's memory map) parse that output and people type these commands out
// of habit. What QEMU prints as a message (an unmapped address, a bad
// format) goes to the output, as in QEMU, not to an error: a front end
// reads it there. The functions cited are QEMU 7.2's.

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"vmapstack/target/paging"
	"vmapstack/target/x86"
)

// addrCanonical sign-extends bit 47, as addr_canonical in QEMU's
// target/i386/monitor.c does for 4-level paging.
func addrCanonical(a uint64) uint64 {
	if a&(1<<47) != 0 {
		a |= 0xffff << 48
	}
	return a
}

// hmpPagingOn reports whether QEMU's info mem/tlb would walk the 4-level
// tables, else writes what QEMU prints instead ("PG disabled").
func (mon *Monitor) hmpPagingOn(out io.Writer) bool {
	st := mon.state()
	if st.CR0&x86.CR0PG == 0 {
		fmt.Fprint(out, "PG disabled\n")
		return false
	}
	return true
}

// hmpRanges calls fn for the mapped leaves of the current address space
// through paging.Ranges, in QEMU's iteration order (PML4 index 0..511, so
// the low half first). paging.Ranges bounds the tables it descends into.
func (mon *Monitor) hmpRanges(fn func(paging.Range)) error {
	return paging.Ranges(mon.m.RAM(), mon.state().CR3, fn)
}

const mask48 = 1<<48 - 1

// cmdInfo dispatches `info mem|tlb`, QEMU's hmp_info_* subcommands.
func (mon *Monitor) cmdInfo(args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("info: which? usage: %s", usage("info"))
	}
	if err := tooMany("info", args, 1); err != nil {
		return err
	}
	switch strings.ToLower(args[0]) {
	case "mem":
		return mon.infoMem(out)
	case "tlb":
		return mon.infoTLB(out)
	case "registers":
		return mon.infoRegisters(out)
	}
	return fmt.Errorf("info: unknown subcommand %q (this stub has: mem, tlb, registers)", args[0])
}

// infoMem prints the address space as QEMU's hmp_info_mem/mem_info_la48
// do: runs of pages with the same user/write rights (the AND over all
// levels), "%016lx-%016lx %016lx %c%c%c", start-end size, u/r/w. QEMU
// merges pages by rights alone, whatever their physical addresses, and
// prints addresses with addr_canonical applied to start, end and size.
func (mon *Monitor) infoMem(out io.Writer) error {
	if !mon.hmpPagingOn(out) {
		return nil
	}
	// A walk cut short (recursive or corrupt tables, a table outside
	// RAM) prints what was listed, then says why.
	var b strings.Builder
	open := false
	var start, end uint64
	var user, write bool
	flush := func() {
		if !open {
			return
		}
		u, w := byte('-'), byte('-')
		if user {
			u = 'u'
		}
		if write {
			w = 'w'
		}
		fmt.Fprintf(&b, "%016x-%016x %016x %cr%c\n", addrCanonical(start), addrCanonical(end), addrCanonical(end-start), u, w)
		open = false
	}
	werr := mon.hmpRanges(func(r paging.Range) {
		s := r.Start & mask48
		e := (r.End-1)&mask48 + 1 // 1<<48 for the last page of the high half
		if open && s == end && r.User == user && r.Writable == write {
			end = e
			return
		}
		flush()
		open, start, end, user, write = true, s, e, r.User, r.Writable
	})
	flush()
	if _, err := io.WriteString(out, b.String()); err != nil {
		return err
	}
	return werr
}

// infoTLB prints every present leaf as QEMU's hmp_info_tlb/tlb_info_la48
// and print_pte do: "%016lx: %016lx %c%c%c%c%c%c%c%c%c", the canonical
// linear address, the entry's frame address (masked as print_pte's
// callers mask it: bits 51:30, 51:21 or 51:12), and the leaf entry's own
// flags X G P(S) D A C(PCD) T(PWT) U W, not the combined rights.
func (mon *Monitor) infoTLB(out io.Writer) error {
	if !mon.hmpPagingOn(out) {
		return nil
	}
	// Every range holds at least one leaf, so more than maxTLBLines ranges
	// is a cut output already.
	var rs []paging.Range
	werr := mon.hmpRanges(func(r paging.Range) {
		if len(rs) <= maxTLBLines {
			rs = append(rs, r)
		}
	})
	ram, cr3 := mon.m.RAM(), mon.state().CR3
	var b strings.Builder
	lines := 0
ranges:
	for _, r := range rs {
		size := uint64(1) << (12 + 9*(r.Level-1))
		for a := r.Start; ; a += size {
			var leaf paging.PTE
			found := false
			if err := paging.Walk(ram, cr3, a, func(level int, _ uint64, e paging.PTE) {
				if level == r.Level && e.Present() {
					leaf, found = e, true
				}
			}); err != nil {
				return err
			}
			if found {
				if lines++; lines > maxTLBLines {
					werr = fmt.Errorf("info tlb: output cut after %d lines (recursive or corrupt page tables?)", maxTLBLines)
					break ranges
				}
				b.WriteString(tlbLine(a, r.Level, leaf))
			}
			if a+size-1 >= r.End-1 || a+size == 0 {
				break
			}
		}
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return err
	}
	return werr
}

// maxTLBLines bounds info tlb's output (about 3 MB): 65536 leaves map
// 256 MiB in 4K pages or 128 GiB in 2M pages, more than a machine of this
// stub has; tables that point back up the tree could list far more.
const maxTLBLines = 1 << 16

// maxDumpBytes bounds what one xp or x dumps (about 1.2 MB of text with
// /xb); QEMU has no bound, but a count typed wrong must not flood the
// debugger's console.
const maxDumpBytes = 256 << 10

// tlbLine is one line of QEMU's print_pte for a leaf at level (3: 1G,
// 2: 2M, 1: 4K). A 4K PTE's bit 7 is PAT, not PS: tlb_info_la48 clears
// it before printing, so 'P' never shows for a 4K page.
func tlbLine(addr uint64, level int, e paging.PTE) string {
	var mask uint64
	v := uint64(e)
	switch level {
	case 3:
		mask = 0x3ffffc0000000
	case 2:
		mask = 0x3ffffffe00000
	default:
		mask = 0x3fffffffff000
		v &^= 1 << 7
	}
	flag := func(bit uint, c byte) byte {
		if v&(1<<bit) != 0 {
			return c
		}
		return '-'
	}
	return fmt.Sprintf("%016x: %016x %c%c%c%c%c%c%c%c%c\n", addrCanonical(addr), v&mask,
		flag(63, 'X'), flag(8, 'G'), flag(7, 'P'), flag(6, 'D'), flag(5, 'A'),
		flag(4, 'C'), flag(3, 'T'), flag(2, 'U'), flag(1, 'W'))
}

// hmpTranslate translates a linear address as QEMU's debug accesses do
// (x86_cpu_get_phys_page_attrs_debug): the address itself with paging
// off; with paging on, unmapped unless canonical and present at every
// level. Neither rights nor reserved bits are checked (QEMU's debug walker
// checks neither): paging.Walk reads the entries as they are.
func (mon *Monitor) hmpTranslate(addr uint64) (uint64, bool) {
	st := mon.state()
	if st.CR0&x86.CR0PG == 0 {
		return addr, true
	}
	if sext := int64(addr) >> 47; sext != 0 && sext != -1 {
		return 0, false
	}
	var phys uint64
	mapped := false
	err := paging.Walk(mon.m.RAM(), st.CR3, addr, func(level int, _ uint64, e paging.PTE) {
		if e.Present() && (level == 1 || (level <= 3 && e.Huge())) {
			size := uint64(1) << (12 + 9*(level-1))
			phys, mapped = e.HugeAddr(level)+addr&(size-1), true
		}
	})
	return phys, mapped && err == nil
}

// hmpAddr parses the ADDR argument of an HMP command. QEMU's messages for
// a missing argument are printed, with its hint, and ok is false.
func (mon *Monitor) hmpAddr(cmd string, args []string, out io.Writer) (uint64, bool, error) {
	if len(args) == 0 {
		fmt.Fprintf(out, "unexpected end of expression\nTry \"help %s\" for more information\n", cmd)
		return 0, false, nil
	}
	if err := tooMany(cmd, args, 1); err != nil {
		return 0, false, err
	}
	st := mon.state()
	a, err := parseAddr(args[0], &st)
	if err != nil {
		return 0, false, err
	}
	return a, true, nil
}

// cmdGVA2GPA is QEMU's hmp_gva2gpa: "gpa: %#lx" of the translation, or
// "Unmapped". C's %#x prints 0 without the 0x.
func (mon *Monitor) cmdGVA2GPA(args []string, out io.Writer) error {
	addr, ok, err := mon.hmpAddr("gva2gpa", args, out)
	if !ok {
		return err
	}
	p, mapped := mon.hmpTranslate(addr &^ 0xfff)
	if !mapped {
		_, err := io.WriteString(out, "Unmapped\n")
		return err
	}
	_, err = fmt.Fprintf(out, "gpa: %s\n", cHexAlt(p+addr&0xfff))
	return err
}

// cHexAlt is C's "%#x": 0x-prefixed hex, but a bare 0 for zero.
func cHexAlt(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// hmpFormat is QEMU's last /FMT: a format without a size (or no /FMT at
// all) takes the previous command's. QEMU keeps these in two process-wide
// statics of monitor/hmp.c (default_fmt_format 'x', default_fmt_size 4),
// shared by every monitor; so does this package.
var hmpFormat = struct {
	sync.Mutex
	format byte
	size   int
}{format: 'x', size: 4}

// parseHMPFormat parses "/FMT" as monitor_parse_arguments' '/' argument
// type does: [count][format][size] in any order after the count, format
// one of o d u x i c, size b h w g (or L). ok is false when QEMU would
// refuse it; msg is then QEMU's message.
func parseHMPFormat(arg string) (count int, format byte, size int, msg string) {
	hmpFormat.Lock()
	defer hmpFormat.Unlock()
	p := arg[1:]
	count = 1
	if len(p) > 0 && p[0] >= '0' && p[0] <= '9' {
		count = 0
		for len(p) > 0 && p[0] >= '0' && p[0] <= '9' {
			count = count*10 + int(p[0]-'0')
			if count > 1<<24 {
				return 0, 0, 0, "count too large"
			}
			p = p[1:]
		}
	}
	size = -1
	fmtc := -1
loop:
	for len(p) > 0 {
		switch p[0] {
		case 'o', 'd', 'u', 'x', 'i', 'c':
			fmtc = int(p[0])
		case 'b':
			size = 1
		case 'h':
			size = 2
		case 'w':
			size = 4
		case 'g', 'L':
			size = 8
		default:
			break loop
		}
		p = p[1:]
	}
	if len(p) > 0 {
		return 0, 0, 0, fmt.Sprintf("invalid char in format: '%c'", p[0])
	}
	if fmtc < 0 {
		fmtc = int(hmpFormat.format)
	}
	if fmtc != 'i' {
		if size < 0 {
			size = hmpFormat.size
		}
		hmpFormat.size = size
	}
	hmpFormat.format = byte(fmtc)
	return count, byte(fmtc), size, ""
}

// defaultHMPFormat is what a command without /FMT uses: count 1 and the
// last format and size.
func defaultHMPFormat() (int, byte, int) {
	hmpFormat.Lock()
	defer hmpFormat.Unlock()
	return 1, hmpFormat.format, hmpFormat.size
}

func (mon *Monitor) cmdXP(args []string, out io.Writer) error {
	return mon.memoryDump("xp", args, out, true)
}
func (mon *Monitor) cmdX(args []string, out io.Writer) error {
	return mon.memoryDump("x", args, out, false)
}

// memoryDump is QEMU's memory_dump (monitor/misc.c) behind hmp_memory_dump
// (x) and hmp_physical_memory_dump (xp): lines of 8 bytes for byte units,
// 16 otherwise, each "%016lx:" then the units, " 0x%0*x" (x), " %*d"/" %*u"
// (d, u: width ceil(bits*10/33)), " %#*o" (o: width ceil(bits/3)) or a
// quoted character (c, which reads bytes but keeps the line length of the
// size asked for). A line whose bytes cannot all be read prints
// " Cannot access memory" and ends the dump. Only 'd' of 8-byte units is
// signed: QEMU loads the smaller units zero-extended.
func (mon *Monitor) memoryDump(cmd string, args []string, out io.Writer, physical bool) error {
	var count, size int
	var format byte
	if len(args) > 0 && strings.HasPrefix(args[0], "/") {
		var msg string
		count, format, size, msg = parseHMPFormat(args[0])
		if msg != "" {
			_, err := fmt.Fprintf(out, "%s\nTry \"help %s\" for more information\n", msg, cmd)
			return err
		}
		args = args[1:]
	} else {
		count, format, size = defaultHMPFormat()
	}
	addr, ok, err := mon.hmpAddr(cmd, args, out)
	if !ok {
		return err
	}
	if format == 'i' {
		return fmt.Errorf("%s: format 'i' (disassembly) is not supported by this stub; use gdb's x/%di", cmd, count)
	}
	if size*count > maxDumpBytes {
		return fmt.Errorf("%s: %d units of %d bytes is more than this stub dumps at once (%dK); use gdb's x or dump memory", cmd, count, size, maxDumpBytes>>10)
	}
	wsize := size
	length := wsize * count
	lineSize := 16
	if wsize == 1 {
		lineSize = 8
	}
	maxDigits := 0
	switch format {
	case 'o':
		maxDigits = (wsize*8 + 2) / 3
	case 'u', 'd':
		maxDigits = (wsize*8*10 + 32) / 33
	case 'c':
		wsize = 1
	default:
		maxDigits = wsize * 8 / 4
	}
	var b strings.Builder
	buf := make([]byte, 16)
	for length > 0 {
		fmt.Fprintf(&b, "%016x:", addr)
		l := min(length, lineSize)
		if !mon.hmpRead(addr, buf[:l], physical) {
			b.WriteString(" Cannot access memory\n")
			break
		}
		for i := 0; i < l; i += wsize {
			var v uint64
			for j := wsize - 1; j >= 0; j-- {
				v = v<<8 | uint64(buf[i+j])
			}
			b.WriteByte(' ')
			switch format {
			case 'o':
				s := "0"
				if v != 0 {
					s = "0" + strconv.FormatUint(v, 8)
				}
				fmt.Fprintf(&b, "%*s", maxDigits, s)
			case 'u':
				fmt.Fprintf(&b, "%*d", maxDigits, v)
			case 'd':
				if wsize == 8 {
					fmt.Fprintf(&b, "%*d", maxDigits, int64(v))
				} else {
					fmt.Fprintf(&b, "%*d", maxDigits, v)
				}
			case 'c':
				b.WriteString(printc(byte(v)))
			default:
				fmt.Fprintf(&b, "0x%0*x", maxDigits, v)
			}
		}
		b.WriteByte('\n')
		addr += uint64(l)
		length -= l
	}
	_, err = io.WriteString(out, b.String())
	return err
}

// hmpRead fills buf from addr, physical or linear (translated page by page
// as cpu_memory_rw_debug does); false when any byte is not RAM or not
// mapped.
func (mon *Monitor) hmpRead(addr uint64, buf []byte, physical bool) bool {
	ram := mon.m.RAM()
	for i := 0; i < len(buf); {
		a := addr + uint64(i)
		n := min(len(buf)-i, int(0x1000-a&0xfff))
		p := a
		if !physical {
			var ok bool
			if p, ok = mon.hmpTranslate(a); !ok {
				return false
			}
		}
		if p > uint64(len(ram)) || uint64(len(ram))-p < uint64(n) {
			return false
		}
		copy(buf[i:i+n], ram[p:])
		i += n
	}
	return true
}

// printc is QEMU's monitor_printc: a quoted character, C escapes for
// quote, backslash, newline and return, \xNN outside printable ASCII.
func printc(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '\\':
		return `'\\'`
	case c == '\n':
		return `'\n'`
	case c == '\r':
		return `'\r'`
	case c >= 32 && c <= 126:
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf(`'\x%02x'`, c)
}
