package boot

import "encoding/binary"

// The SMBIOS tables firmware leaves in the BIOS area, so that a kernel
// identifies the machine (Linux prints "DMI: <vendor> <product>, BIOS
// <version> <date>" and reports it in every oops as "Hardware name:").
// Under QEMU SeaBIOS installs QEMU's tables; we are not QEMU and have no
// BIOS, so ours name this machine. Linux also keeps the strings in memory
// it takes from its early brk area, which is why having tables at all shows
// in its MemTotal.
//
// Layout: the SMBIOS 2.8 entry point ("_SM_", DMTF DSP0134 §5.2.1) at
// SMBIOSAddr, a 16-byte boundary in 0xF0000-0xFFFFF where Linux scans for
// it, and the structure table right after it.

// SMBIOSAddr is where the entry point goes.
const SMBIOSAddr = 0xf0000

// SMBIOS strings.
const (
	smbiosVendor  = "vmapstack"
	smbiosProduct = "Emulated PC (qemu64 CPU)"
	smbiosBIOS    = "none (direct kernel boot)"
	smbiosDate    = "01/01/2025"
)

// WriteSMBIOS writes the entry point and the structure table into ram,
// which must reach past 1 MiB.
func WriteSMBIOS(ram []byte) {
	var table []byte
	add := func(formatted []byte, strs ...string) {
		table = append(table, formatted...)
		if len(strs) == 0 {
			table = append(table, 0)
		}
		for _, s := range strs {
			table = append(table, s...)
			table = append(table, 0)
		}
		table = append(table, 0)
	}
	// Type 0, BIOS Information (§7.1), 2.4+ length 0x18: vendor,
	// version, starting segment 0xE800, release date, ROM size 64 KiB,
	// characteristics "not supported" (bit 3), no extension bytes, no
	// release numbers (0xff).
	t0 := []byte{0, 0x18, 0x00, 0x00, 1, 2, 0x00, 0xe8, 3, 0}
	t0 = binary.LittleEndian.AppendUint64(t0, 1<<3)
	t0 = append(t0, 0, 0, 0xff, 0xff, 0xff, 0xff)
	add(t0, smbiosVendor, smbiosBIOS, smbiosDate)
	// Type 1, System Information (§7.2), 2.4+ length 0x1b: manufacturer,
	// product, version (none), serial (none), a zero UUID ("not present"),
	// wake-up type power switch (6), SKU and family (none).
	t1 := []byte{1, 0x1b, 0x01, 0x00, 1, 2, 0, 0}
	t1 = append(t1, make([]byte, 16)...)
	t1 = append(t1, 6, 0, 0)
	add(t1, smbiosVendor, smbiosProduct)
	// Type 127, End-of-Table (§7.44).
	add([]byte{127, 4, 0x02, 0x00})

	le := binary.LittleEndian
	const epLen = 0x1f
	tableAddr := uint32(SMBIOSAddr + 0x20)
	ep := ram[SMBIOSAddr : SMBIOSAddr+epLen]
	clear(ep)
	copy(ep[0:], "_SM_")
	ep[5] = epLen
	ep[6], ep[7] = 2, 8
	le.PutUint16(ep[8:], maxStructure(table))
	copy(ep[0x10:], "_DMI_")
	le.PutUint16(ep[0x16:], uint16(len(table)))
	le.PutUint32(ep[0x18:], tableAddr)
	le.PutUint16(ep[0x1c:], 3) // structures
	ep[0x1e] = 0x28            // SMBIOS BCD revision 2.8
	ep[0x15] = checksum(ep[0x10:epLen])
	ep[4] = checksum(ep)
	copy(ram[tableAddr:], table)
}

// checksum is the byte that makes b sum to zero.
func checksum(b []byte) byte {
	var s byte
	for _, x := range b {
		s += x
	}
	return -s
}

// maxStructure is the size of the largest structure, strings included.
func maxStructure(table []byte) uint16 {
	var largest int
	for i := 0; i < len(table); {
		j := i + int(table[i+1])
		for j+1 < len(table) && (table[j] != 0 || table[j+1] != 0) {
			j++
		}
		j += 2
		largest = max(largest, j-i)
		i = j
	}
	return uint16(largest)
}
