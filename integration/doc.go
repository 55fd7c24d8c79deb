// Package integration holds the end-to-end tests of vmapstack: the real
// stub binary driven by the real gdb 13 (batch and gdb/MI), lldb 14, and
// compared with QEMU 7.2 running the same kernel. It has no non-test code.
//
// TestMain builds cmd/stub once into a temporary directory; set
// VMAPSTACK_STUB to a prebuilt binary to skip that. Tests needing gdb,
// lldb or qemu-system-x86_64 skip when the tool is missing, and fail
// instead when VMAPSTACK_REQUIRE_TOOLS=1. At most two emulators (stub or
// QEMU) run at once.
package integration
