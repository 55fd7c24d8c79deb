package kernelsym

import (
	"fmt"
	"sort"
)

// SymbolTable is a kernel's symbols in address order, with lookups by
// name and by address. Both kernel models keep one: the ELF model from
// the ELF's .symtab, the Linux model from kallsyms and the modules'
// symbol tables. The zero value is an empty table.
type SymbolTable struct {
	syms   []Symbol // sorted by address, sized symbols first at equal addresses
	byName map[string]int
}

// NewSymbolTable sorts syms (which it takes over) and indexes them.
func NewSymbolTable(syms []Symbol) *SymbolTable {
	// Among equal addresses, sized symbols (functions, objects) come
	// first so that they name an address before a label does.
	sort.SliceStable(syms, func(i, j int) bool {
		a, b := syms[i], syms[j]
		if a.Addr != b.Addr {
			return a.Addr < b.Addr
		}
		return a.Size > b.Size
	})
	t := &SymbolTable{syms: syms, byName: make(map[string]int, len(syms))}
	for i, s := range syms {
		if _, dup := t.byName[s.Name]; !dup {
			t.byName[s.Name] = i
		}
	}
	return t
}

// Len returns the number of symbols.
func (t *SymbolTable) Len() int {
	if t == nil {
		return 0
	}
	return len(t.syms)
}

// Lookup finds a symbol by name (the lowest-addressed one of that name).
func (t *SymbolTable) Lookup(name string) (Symbol, bool) {
	if t == nil {
		return Symbol{}, false
	}
	i, ok := t.byName[name]
	if !ok {
		return Symbol{}, false
	}
	return t.syms[i], true
}

// Symbols returns the symbols in address order (a copy).
func (t *SymbolTable) Symbols() []Symbol {
	if t == nil {
		return nil
	}
	return append([]Symbol(nil), t.syms...)
}

// Symbolize finds the symbol an address falls in: a sized symbol that
// contains it, or the closest label below it (a label's extent is up to
// the next symbol). ok is false when no symbol covers addr.
func (t *SymbolTable) Symbolize(addr uint64) (sym Symbol, off uint64, ok bool) {
	if t == nil || len(t.syms) == 0 {
		return Symbol{}, 0, false
	}
	syms := t.syms
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Addr > addr })
	// Candidates are at indices < i, nearest first.
	for j := i - 1; j >= 0 && j >= i-64; j-- {
		if s := syms[j]; s.Size > 0 && addr-s.Addr < s.Size {
			// Of aliases (same address), name the first in table
			// order, as Linux's kallsyms lookups do (get_symbol_pos,
			// find_kallsyms_symbol): a module's init function before
			// its init_module alias.
			for j > 0 && syms[j-1].Addr == s.Addr && syms[j-1].Size > 0 && addr-syms[j-1].Addr < syms[j-1].Size {
				j--
				s = syms[j]
			}
			return s, addr - s.Addr, true
		}
	}
	// No sized symbol covers addr: an assembler label (no .size) covers
	// up to the next symbol, within maxLabelExtent.
	for j := i - 1; j >= 0 && syms[j].Addr == syms[i-1].Addr; j-- {
		if s := syms[j]; s.Size == 0 && addr-s.Addr < maxLabelExtent {
			return s, addr - s.Addr, true
		}
	}
	return Symbol{}, 0, false
}

// maxLabelExtent bounds how far past a size-less label Symbolize still
// names an address with it (past the last symbol of the image, _end, an
// address is not the image's).
const maxLabelExtent = 64 << 10

// Describe names an address for messages: "name+0x1c", "name", or ""
// when no symbol covers it.
func (t *SymbolTable) Describe(addr uint64) string {
	s, off, ok := t.Symbolize(addr)
	if !ok {
		return ""
	}
	if off == 0 {
		return s.Name
	}
	return fmt.Sprintf("%s+%#x", s.Name, off)
}
