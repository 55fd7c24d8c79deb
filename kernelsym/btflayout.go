package kernelsym

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// btfTypes is a kernel's BTF (the .BTF section, __start_BTF..__stop_BTF
// in memory), asked for the offsets of the fields the Linux model reads.
//
// BTF is parsed with github.com/cilium/ebpf/btf rather than by hand: it
// is the most used Go BTF reader (Cilium, Tetragon, Inspektor Gadget),
// follows the kernel's format as it changes (new kinds, enum64, decl
// tags), and decodes types lazily, so the 4 MB of Debian's 6.1 BTF load
// in about 50 ms and 17 MB of heap on this machine.
type btfTypes struct {
	spec *btf.Spec
}

func parseBTF(raw []byte) (*btfTypes, error) {
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse BTF (%d bytes): %w", len(raw), err)
	}
	return &btfTypes{spec: spec}, nil
}

// composite returns the struct or union named name.
func (b *btfTypes) composite(name string) (btf.Type, error) {
	types, err := b.spec.AnyTypesByName(name)
	if err != nil {
		return nil, fmt.Errorf("BTF has no type %q: %w", name, err)
	}
	for _, t := range types {
		switch t.(type) {
		case *btf.Struct, *btf.Union:
			return t, nil
		}
	}
	return nil, fmt.Errorf("BTF has no struct or union %q", name)
}

// sizeof returns the size of struct/union name.
func (b *btfTypes) sizeof(name string) (uint64, error) {
	t, err := b.composite(name)
	if err != nil {
		return 0, err
	}
	n, err := btf.Sizeof(t)
	if err != nil {
		return 0, fmt.Errorf("BTF: size of %s: %w", name, err)
	}
	return uint64(n), nil
}

// field finds a member of struct/union typ by a dotted path such as
// "thread.sp", descending into anonymous members on the way (mm_struct
// keeps pgd in an anonymous struct) as C's member access does.
func (b *btfTypes) field(typ, path string) (Field, error) {
	t, err := b.composite(typ)
	if err != nil {
		return Field{}, err
	}
	var off uint64
	for _, name := range strings.Split(path, ".") {
		m, at, ok := findMember(t, name, 0)
		if !ok {
			return Field{}, fmt.Errorf("BTF: %s has no member %q (looking for %s)", typeName(t), name, path)
		}
		if m.BitfieldSize != 0 {
			return Field{}, fmt.Errorf("BTF: %s.%s is a bitfield", typ, path)
		}
		off += at
		t = btf.UnderlyingType(m.Type)
	}
	size, err := btf.Sizeof(t)
	if err != nil {
		return Field{}, fmt.Errorf("BTF: size of %s.%s: %w", typ, path, err)
	}
	return Field{Offset: off, Size: uint64(size)}, nil
}

// findMember looks for name among t's members, and in its anonymous
// members' (depth-bounded: BTF from guest memory may be hostile).
func findMember(t btf.Type, name string, depth int) (btf.Member, uint64, bool) {
	if depth > 8 {
		return btf.Member{}, 0, false
	}
	var members []btf.Member
	switch c := t.(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	default:
		return btf.Member{}, 0, false
	}
	for _, m := range members {
		if m.Name == name {
			return m, uint64(m.Offset.Bytes()), true
		}
	}
	for _, m := range members {
		if m.Name != "" {
			continue
		}
		if inner, at, ok := findMember(btf.UnderlyingType(m.Type), name, depth+1); ok {
			return inner, uint64(m.Offset.Bytes()) + at, true
		}
	}
	return btf.Member{}, 0, false
}

func typeName(t btf.Type) string {
	if n := t.TypeName(); n != "" {
		return n
	}
	return "an anonymous " + fmt.Sprintf("%T", t)
}

// fields resolves several paths of one type, joining the errors.
func (b *btfTypes) fields(typ string, want map[string]*Field) error {
	var errs []error
	for path, f := range want {
		v, err := b.field(typ, path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*f = v
	}
	return errors.Join(errs...)
}
