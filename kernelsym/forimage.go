package kernelsym

import (
	"bytes"
	"debug/elf"
)

// ForImage chooses the model for a kernel file: a Linux bzImage, or an
// ELF that is Linux's vmlinux (it carries .BTF), gets the Linux model,
// which learns the kernel from its memory once it runs; any other ELF
// (the mini kernel) gets the ELF model. It never fails: a file it cannot
// read yields a model that says so.
func ForImage(image []byte) Kernel {
	if IsBzImage(image) {
		return NewLinux(image)
	}
	if f, err := elf.NewFile(bytes.NewReader(image)); err == nil {
		isLinux := f.Section(".BTF") != nil && f.Section("__ksymtab") != nil
		f.Close()
		if isLinux {
			return NewLinux(image)
		}
	}
	k, err := Load(image)
	if err != nil {
		return &ELFKernel{Missing: err.Error(), ThreadSize: DefaultThreadSize, ThreadSizeSource: "default"}
	}
	return k
}

// IsBzImage reports whether image starts like a Linux bzImage: the
// setup header's "HdrS" magic at 0x202 (Documentation/arch/x86/boot.rst).
func IsBzImage(image []byte) bool {
	return len(image) > 0x206 && string(image[0x202:0x206]) == "HdrS"
}
