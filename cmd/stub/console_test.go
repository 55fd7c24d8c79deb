package main

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

func TestEscapeReader(t *testing.T) {
	for _, tc := range []struct {
		name, in, out string
		quit, help    bool
	}{
		{"plain", "ls\r", "ls\r", false, false},
		{"Ctrl-a Ctrl-a sends one", "a\x01\x01b", "a\x01b", false, false},
		{"Ctrl-a a sends one", "\x01a", "\x01", false, false},
		{"Ctrl-a x quits, the rest is not sent", "echo\x01xmore", "echo", true, false},
		{"Ctrl-a h helps", "\x01hz", "z", false, true},
		{"unknown escape dropped", "\x01qz", "z", false, false},
		{"Ctrl-C goes to the guest", "\x03", "\x03", false, false},
		{"escape split across reads", "\x01", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var help bytes.Buffer
			quit := false
			// One byte per Read: an escape split across reads must work.
			e := &escapeReader{r: iotest.OneByteReader(bytes.NewReader([]byte(tc.in))), help: &help, quit: func() { quit = true }}
			got, err := io.ReadAll(e)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.out || quit != tc.quit || (help.Len() > 0) != tc.help {
				t.Errorf("read %q quit %v help %q; want %q quit %v help %v", got, quit, help.String(), tc.out, tc.quit, tc.help)
			}
		})
	}
}

// TestConsoleInputPipe: piped stdin reaches the guest unchanged, escapes
// and all (raw mode and Ctrl-a belong to a terminal).
func TestConsoleInputPipe(t *testing.T) {
	in := bytes.NewReader([]byte("a\x01xb"))
	r, restore, err := consoleInput(in, io.Discard, func() { t.Error("quit on piped input") })
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	if got, _ := io.ReadAll(r); string(got) != "a\x01xb" {
		t.Errorf("read %q", got)
	}
}
