//go:build !unix

package main

import "testing"

func mkfifo(t *testing.T, path string) {
	t.Skip("FIFOs need a unix GOOS; the suite runs on Linux")
}
