package gdbtarget

import (
	"fmt"
	"strings"
)

// flagField is one named bit range of a flags type in the target description.
type flagField struct {
	name       string
	start, end int
}

type flagsType struct {
	id     string
	size   int
	fields []flagField
}

// bits builds single-bit fields from name:bit pairs.
func bits(pairs ...any) []flagField {
	var f []flagField
	for i := 0; i < len(pairs); i += 2 {
		b := pairs[i+1].(int)
		f = append(f, flagField{pairs[i].(string), b, b})
	}
	return f
}

// The flags types QEMU 7.2 declares for its x86-64 core feature, so that gdb
// prints "[ PE ET PG ]" for cr0 exactly as it does against QEMU.
var flagsTypes = []flagsType{
	{"x64_eflags", 4, append([]flagField{{"", 22, 31}}, append(bits(
		"ID", 21, "VIP", 20, "VIF", 19, "AC", 18, "VM", 17, "RF", 16, "", 15, "NT", 14),
		append([]flagField{{"IOPL", 12, 13}}, bits(
			"OF", 11, "DF", 10, "IF", 9, "TF", 8, "SF", 7, "ZF", 6, "", 5, "AF", 4, "", 3,
			"PF", 2, "", 1, "CF", 0)...)...)...)},
	{"x64_cr0", 8, bits("PG", 31, "CD", 30, "NW", 29, "AM", 18, "WP", 16, "NE", 5, "ET", 4,
		"TS", 3, "EM", 2, "MP", 1, "PE", 0)},
	{"x64_cr3", 8, []flagField{{"PDBR", 12, 63}, {"PCID", 0, 11}}},
	{"x64_cr4", 8, bits("PKE", 22, "SMAP", 21, "SMEP", 20, "OSXSAVE", 18, "PCIDE", 17,
		"FSGSBASE", 16, "SMXE", 14, "VMXE", 13, "LA57", 12, "UMIP", 11, "OSXMMEXCPT", 10,
		"OSFXSR", 9, "PCE", 8, "PGE", 7, "MCE", 6, "PAE", 5, "PSE", 4, "DE", 3, "TSD", 2,
		"PVI", 1, "VME", 0)},
	{"x64_efer", 8, bits("TCE", 15, "FFXSR", 14, "LMSLE", 13, "SVME", 12, "NXE", 11,
		"LMA", 10, "LME", 8, "SCE", 0)},
	{"x64_mxcsr", 4, bits("IE", 0, "DE", 1, "ZE", 2, "OE", 3, "UE", 4, "PE", 5, "DAZ", 6,
		"IM", 7, "DM", 8, "ZM", 9, "OM", 10, "UM", 11, "PM", 12, "FZ", 15)},
}

// targetXML is the top-level document served for qXfer:features:read:target.xml.
const targetXML = `<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">` +
	`<target><architecture>i386:x86-64</architecture><xi:include href="i386-64bit.xml"/></target>`

// coreXML renders the i386-64bit.xml annex from regs and flagsTypes.
func coreXML() string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n")
	b.WriteString("<feature name=\"org.gnu.gdb.i386.core\">\n")
	for _, t := range flagsTypes {
		fmt.Fprintf(&b, "  <flags id=\"%s\" size=\"%d\">\n", t.id, t.size)
		for _, f := range t.fields {
			fmt.Fprintf(&b, "    <field name=\"%s\" start=\"%d\" end=\"%d\"/>\n", f.name, f.start, f.end)
		}
		b.WriteString("  </flags>\n")
	}
	b.WriteString(`  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/>
    <field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/>
    <field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/>
    <field name="uint128" type="uint128"/>
  </union>
`)
	for i, r := range regs {
		fmt.Fprintf(&b, "  <reg name=\"%s\" bitsize=\"%d\" type=\"%s\"", r.name, r.bits, r.xmlType)
		if r.group != "" {
			fmt.Fprintf(&b, " group=\"%s\"", r.group)
		}
		if i == 0 {
			b.WriteString(" regnum=\"0\"")
		}
		b.WriteString("/>\n")
	}
	b.WriteString("</feature>\n")
	return b.String()
}
