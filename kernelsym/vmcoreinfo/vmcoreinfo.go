// Package vmcoreinfo reads the VMCOREINFO text a running Linux kernel
// keeps in its memory for crash-dump tools (makedumpfile, crash, drgn):
// its release, page size, the addresses of chosen symbols (the kallsyms
// tables among them since Linux 6.0), structure offsets and sizes, and the
// KASLR offset. With it a debugger finds its way around a kernel it has
// no vmlinux for (docs/design.md §4b).
//
// The kernel writes the text once, at subsys_initcall
// (kernel/crash_core.c, crash_save_vmcoreinfo_init; kernel/vmcore_info.c
// since 6.9), into a zeroed page (vmcoreinfo_data) and copies it into an
// ELF note named "VMCOREINFO" (vmcoreinfo_note, update_vmcoreinfo_note),
// both in the direct map. Parse decodes the text; Find locates it in guest
// physical memory.
package vmcoreinfo

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// MaxBytes bounds the text Parse accepts. The kernel's buffer is one page
// (VMCOREINFO_BYTES is PAGE_SIZE, include/linux/crash_core.h): 4 KiB on
// x86-64, at most 64 KiB on kernels with 64 KiB pages.
const MaxBytes = 64 << 10

// Info is a parsed VMCOREINFO text. The zero value holds nothing; use
// Parse.
type Info struct {
	text   []byte
	keys   []string          // in the order of the text
	values map[string]string // key ("SYMBOL(init_uts_ns)") → value as written

	symbols map[string]uint64 // SYMBOL(name)=%lx
	offsets map[string]uint64 // OFFSET(struct.member)=%lu
	sizes   map[string]uint64 // SIZE(name)=%lu
	lengths map[string]uint64 // LENGTH(name)=%lu
	numbers map[string]int64  // NUMBER(name)=%ld (arm64 writes some as 0x%llx)

	osRelease       string
	buildID         string
	pageSize        uint64
	kernelOffset    uint64
	hasKernelOffset bool
}

// Parse decodes a VMCOREINFO text: lines KEY=VALUE as
// vmcoreinfo_append_str writes them (kernel/crash_core.c and the
// VMCOREINFO_* macros of include/linux/crash_core.h):
//
//	OSRELEASE=%s  BUILD-ID=%20phN  PAGESIZE=%ld  KERNELOFFSET=%lx
//	SYMBOL(name)=%lx  OFFSET(struct.member)=%lu  SIZE(name)=%lu
//	LENGTH(name)=%lu  NUMBER(name)=%ld  CRASHTIME=%lld
//
// Trailing NUL bytes (the rest of the zeroed page) are ignored. Keys Parse
// does not know are kept (Value) and otherwise ignored, since kernels add
// lines over time; a known key with a malformed value, a line without
// '=', a control character, a key given twice with different values, or
// a text above MaxBytes is an error naming the line.
func Parse(text []byte) (*Info, error) {
	if len(text) > MaxBytes {
		return nil, fmt.Errorf("vmcoreinfo: %d bytes, more than the %d a VMCOREINFO page can hold", len(text), MaxBytes)
	}
	text = bytes.TrimRight(text, "\x00")
	info := &Info{
		text:    bytes.Clone(text),
		values:  map[string]string{},
		symbols: map[string]uint64{},
		offsets: map[string]uint64{},
		sizes:   map[string]uint64{},
		lengths: map[string]uint64{},
		numbers: map[string]int64{},
	}
	for n, line := range strings.Split(string(text), "\n") {
		if line == "" {
			continue
		}
		if err := info.parseLine(line); err != nil {
			return nil, fmt.Errorf("vmcoreinfo: line %d %q: %w", n+1, clip(line), err)
		}
	}
	return info, nil
}

func (info *Info) parseLine(line string) error {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("control character %#02x", c)
		}
	}
	key, val, ok := strings.Cut(line, "=")
	if !ok {
		return fmt.Errorf("no '='")
	}
	if key == "" {
		return fmt.Errorf("empty key")
	}
	if old, dup := info.values[key]; dup {
		if old != val {
			return fmt.Errorf("%s given twice, first as %q", key, old)
		}
		return nil
	}

	switch key {
	case "OSRELEASE":
		if val == "" {
			return fmt.Errorf("empty release")
		}
		info.osRelease = val
	case "BUILD-ID":
		if !isHex(val) {
			return fmt.Errorf("build ID is not hexadecimal")
		}
		info.buildID = val
	case "PAGESIZE":
		v, err := strconv.ParseUint(val, 10, 64)
		if err != nil || v == 0 || v&(v-1) != 0 {
			return fmt.Errorf("page size is not a power of two in decimal")
		}
		info.pageSize = v
	case "KERNELOFFSET":
		v, err := parseHex(val)
		if err != nil {
			return err
		}
		info.kernelOffset, info.hasKernelOffset = v, true
	case "CRASHTIME":
		if _, err := strconv.ParseInt(val, 10, 64); err != nil {
			return fmt.Errorf("crash time is not a decimal number")
		}
	default:
		kind, name, ok := splitKey(key)
		if !ok {
			break // a key of a kind this package does not know
		}
		var err error
		switch kind {
		case "SYMBOL":
			info.symbols[name], err = parseHex(val)
		case "OFFSET":
			info.offsets[name], err = parseDec(val)
		case "SIZE":
			info.sizes[name], err = parseDec(val)
		case "LENGTH":
			info.lengths[name], err = parseDec(val)
		case "NUMBER":
			info.numbers[name], err = parseNumber(val)
		}
		if err != nil {
			return err
		}
	}
	info.keys = append(info.keys, key)
	info.values[key] = val
	return nil
}

// splitKey splits "SYMBOL(init_uts_ns)" into its kind and name; ok is
// false for keys not of that form or of a kind this package does not
// parse.
func splitKey(key string) (kind, name string, ok bool) {
	open := strings.IndexByte(key, '(')
	if open <= 0 || !strings.HasSuffix(key, ")") {
		return "", "", false
	}
	kind, name = key[:open], key[open+1:len(key)-1]
	switch kind {
	case "SYMBOL", "OFFSET", "SIZE", "LENGTH", "NUMBER":
		return kind, name, name != ""
	}
	return "", "", false
}

// parseHex reads %lx (no prefix); a 0x prefix is accepted too, as some
// architectures write their extra lines with 0x%llx.
func parseHex(s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a 64-bit hexadecimal number", s)
	}
	return v, nil
}

// parseDec reads %lu.
func parseDec(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an unsigned decimal number", s)
	}
	return v, nil
}

// parseNumber reads NUMBER's %ld (negative values occur:
// PAGE_BUDDY_MAPCOUNT_VALUE is ~PG_buddy) or the 0x%llx arm64 uses for
// some (arch/arm64/kernel/vmcore_info.c), kept as the same 64 bits.
func parseNumber(s string) (int64, error) {
	if strings.HasPrefix(s, "0x") {
		v, err := parseHex(s)
		return int64(v), err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a signed 64-bit decimal number", s)
	}
	return v, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// clip shortens a line for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// validate says whether the text is a complete VMCOREINFO: the kernel
// writes OSRELEASE and PAGESIZE first of all, so a text without them is
// not one (or a fragment).
func (info *Info) validate() error {
	if info.osRelease == "" {
		return fmt.Errorf("vmcoreinfo: no OSRELEASE line")
	}
	if info.pageSize == 0 {
		return fmt.Errorf("vmcoreinfo: no PAGESIZE line")
	}
	return nil
}

// Text returns the text as parsed (without trailing NULs).
func (info *Info) Text() []byte { return info.text }

// Keys returns the keys in the order of the text.
func (info *Info) Keys() []string { return append([]string(nil), info.keys...) }

// Value returns the value of any line as written, by its whole key
// ("SYMBOL(init_uts_ns)", "OSRELEASE").
func (info *Info) Value(key string) (string, bool) {
	v, ok := info.values[key]
	return v, ok
}

// OSRelease is the kernel release (uname -r), "" when absent.
func (info *Info) OSRelease() string { return info.osRelease }

// BuildID is the kernel's GNU build ID in hexadecimal (Linux ≥ 5.14),
// "" when absent.
func (info *Info) BuildID() string { return info.buildID }

// PageSize is PAGE_SIZE, 0 when absent.
func (info *Info) PageSize() uint64 { return info.pageSize }

// KernelOffset is the KASLR offset (KERNELOFFSET, x86 and arm64: the
// difference between where the kernel image runs and where it was
// linked; 0 under nokaslr).
func (info *Info) KernelOffset() (uint64, bool) {
	return info.kernelOffset, info.hasKernelOffset
}

// Symbol is SYMBOL(name): a runtime virtual address.
func (info *Info) Symbol(name string) (uint64, bool) {
	v, ok := info.symbols[name]
	return v, ok
}

// Offset is OFFSET(name), name being "struct.member" as the kernel
// writes it ("uts_namespace.name", "list_head.next").
func (info *Info) Offset(name string) (uint64, bool) {
	v, ok := info.offsets[name]
	return v, ok
}

// Size is SIZE(name): sizeof a structure or type.
func (info *Info) Size(name string) (uint64, bool) {
	v, ok := info.sizes[name]
	return v, ok
}

// Length is LENGTH(name): the number of elements of an array.
func (info *Info) Length(name string) (uint64, bool) {
	v, ok := info.lengths[name]
	return v, ok
}

// Number is NUMBER(name): a constant (phys_base, pgtable_l5_enabled,
// PG_* flag numbers).
func (info *Info) Number(name string) (int64, bool) {
	v, ok := info.numbers[name]
	return v, ok
}
