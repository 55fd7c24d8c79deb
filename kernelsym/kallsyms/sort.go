package kallsyms

import "sort"

// SortByAddr sorts symbols by address, keeping their relative order
// where addresses are equal (aliases: a function and its __pfx_ or
// __SCT__ twin, section start labels, zero-size markers). Decode's result
// is already in this order for every kernel scripts/kallsyms.c sorts by
// address; symbols from elsewhere may not be.
func SortByAddr(syms []Symbol) {
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].Addr < syms[j].Addr })
}

// Sizes returns a size for each of the symbols, which must be sorted by
// address: kallsyms stores none, so, as kernel/kallsyms.c does in
// get_symbol_pos, a symbol extends to the next symbol with a greater
// address. The next symbol is looked for within the same class, the
// absolute symbols (per-CPU offsets under
// CONFIG_KALLSYMS_ABSOLUTE_PERCPU, type 'A') apart from the addresses in
// the kernel image, since the two number different spaces. A size above
// limit (the last symbol of a class, or one before a large gap such as
// the one between the image and the per-CPU offsets) is given as 0,
// unknown; aliases share the size of their address.
func Sizes(sorted []Symbol, limit uint64) []uint64 {
	sizes := make([]uint64, len(sorted))
	// Per class (0: image addresses, 1: absolute), walking backwards:
	// the address of the current group of equal addresses and of the
	// group after it.
	var cur, after [2]uint64
	var haveCur, haveAfter [2]bool
	for i := len(sorted) - 1; i >= 0; i-- {
		s := sorted[i]
		c := 0
		if s.Absolute() {
			c = 1
		}
		if !haveCur[c] || s.Addr != cur[c] {
			if haveCur[c] {
				after[c], haveAfter[c] = cur[c], true
			}
			cur[c], haveCur[c] = s.Addr, true
		}
		if haveAfter[c] && after[c] > s.Addr && after[c]-s.Addr <= limit {
			sizes[i] = after[c] - s.Addr
		}
	}
	return sizes
}
