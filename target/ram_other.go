//go:build !linux

package target

import (
	"fmt"

	"vmapstack/target/boot"
)

// MapRAM returns size bytes of zeroed memory for guest RAM (Config.RAM):
// on this host, from the Go heap (ram_linux.go maps it outside).
func MapRAM(size uint64) ([]byte, error) {
	if size == 0 || size > boot.MaxMemory {
		return nil, fmt.Errorf("guest RAM of %#x bytes: not between 1 byte and %#x", size, uint64(boot.MaxMemory))
	}
	return make([]byte, size), nil
}
