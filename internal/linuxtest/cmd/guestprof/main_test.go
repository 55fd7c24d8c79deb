package main

import (
	"testing"

	"vmapstack/kernelsym/kallsyms"
)

func TestFunctionAt(t *testing.T) {
	syms := textSymbols([]kallsyms.Symbol{
		{Name: "later", Addr: 0xffffffff81002000, Type: 't'},
		{Name: "data", Addr: 0xffffffff81001800, Type: 'D'}, // not code: never named
		{Name: "first", Addr: 0xffffffff81001000, Type: 'T'},
		{Name: "weak", Addr: 0xffffffff81003000, Type: 'W'},
	})
	if len(syms) != 3 || syms[0].Name != "first" || syms[2].Name != "weak" {
		t.Fatalf("textSymbols: %+v, want first, later, weak in address order", syms)
	}
	tests := []struct {
		rip  uint64
		want string
	}{
		{0x401000, "(user)"},
		{0x7fffffffffff, "(user)"},
		{0xffffffff80000000, "(0xffffffff80000000)"}, // below the first symbol
		{0xffffffff81001000, "first"},
		{0xffffffff81001900, "first"}, // the data symbol does not cut it short
		{0xffffffff81002004, "later"},
		{0xffffffffff600000, "weak"},
	}
	for _, tt := range tests {
		if got := functionAt(syms, tt.rip); got != tt.want {
			t.Errorf("functionAt(%#x) = %q, want %q", tt.rip, got, tt.want)
		}
	}
}
