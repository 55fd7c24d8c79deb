// Package gdbscripts holds no Go code: scripts/gdb is the gdb Python
// helpers for the vmapstack mini kernel (vmapstack-gdb.py and the
// vmapstack/ modules), two example gdb sessions (catch-overflow.gdb,
// lazy-pgd-nosync.gdb) and the tests that run them, and the VS Code
// configuration in .vscode, against the stub with a real gdb.
// See README.md.
package gdbscripts
