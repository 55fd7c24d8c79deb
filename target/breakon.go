package target

import (
	"fmt"
	"strconv"
	"strings"
)

// BreakOnSet is the set of vectors whose delivery stops the machine. A
// triple fault always stops it (the CPU shuts down, SDM Vol. 3A 6.15,
// interrupt 8), so "triple" is accepted in a list, always shown, and
// cannot be turned off.
type BreakOnSet struct {
	Vectors [256]bool
}

// ErrTripleAlwaysOn is returned for an attempt to stop breaking on triple
// faults.
var ErrTripleAlwaysOn = fmt.Errorf("a triple fault always stops the machine (the CPU shuts down); it cannot be turned off")

// breakOnNames are the names --break-on and `monitor break-on` accept,
// the lowercase mnemonics of SDM Vol. 3A Table 6-1 ("ss" is the
// stack-segment fault #SS, not single-stepping).
var breakOnNames = []struct {
	name   string
	vector uint8
}{
	{"de", 0}, {"db", 1}, {"nmi", 2}, {"bp", 3}, {"of", 4}, {"br", 5},
	{"ud", 6}, {"nm", 7}, {"df", 8}, {"ts", 10}, {"np", 11}, {"ss", 12},
	{"gp", 13}, {"pf", 14}, {"mf", 16}, {"ac", 17}, {"mc", 18}, {"xm", 19},
}

// BreakOnNames lists the accepted names, for help texts.
func BreakOnNames() string {
	names := make([]string, 0, len(breakOnNames)+1)
	for _, n := range breakOnNames {
		names = append(names, n.name)
	}
	names = append(names, "triple")
	return strings.Join(names, ", ")
}

// ParseBreakOnItem parses one element of a break-on list: a name ("pf"),
// a vector number (14, 0x0e), or "triple". It returns triple=true for the
// latter.
func ParseBreakOnItem(item string) (vector uint8, triple bool, err error) {
	s := strings.ToLower(strings.TrimSpace(item))
	s = strings.TrimPrefix(s, "#")
	if s == "triple" {
		return 0, true, nil
	}
	for _, n := range breakOnNames {
		if n.name == s {
			return n.vector, false, nil
		}
	}
	v, perr := strconv.ParseUint(s, 0, 8)
	if perr != nil || s == "" {
		return 0, false, fmt.Errorf("unknown exception %q (want a vector 0-255, none, or one of %s)", item, BreakOnNames())
	}
	return uint8(v), false, nil
}

// ParseBreakOn parses a comma-separated list. "" and "none" select no
// vector (a triple fault still stops the machine).
func ParseBreakOn(list string) (BreakOnSet, error) {
	var set BreakOnSet
	list = strings.TrimSpace(list)
	if list == "" || strings.EqualFold(list, "none") {
		return set, nil
	}
	for _, item := range strings.Split(list, ",") {
		v, triple, err := ParseBreakOnItem(item)
		if err != nil {
			return BreakOnSet{}, err
		}
		if !triple {
			set.Vectors[v] = true
		}
	}
	return set, nil
}

// String lists the set in the syntax ParseBreakOn accepts, vectors in
// increasing order, names where there is one, and always "triple".
func (s BreakOnSet) String() string {
	var items []string
	for v := 0; v < 256; v++ {
		if !s.Vectors[v] {
			continue
		}
		name := ""
		for _, n := range breakOnNames {
			if int(n.vector) == v {
				name = n.name
			}
		}
		if name == "" {
			name = strconv.Itoa(v)
		}
		items = append(items, name)
	}
	return strings.Join(append(items, "triple"), ",")
}
