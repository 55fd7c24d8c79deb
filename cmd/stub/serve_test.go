package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
)

// TestBannerNamesBoundAddress: the banner names the address a debugger
// attaches to, with the port the system picked for port 0 and the host as
// written (gdb's target remote takes ":PORT", not "[::]:PORT").
func TestBannerNamesBoundAddress(t *testing.T) {
	sock := testtool.SocketPath(t)
	for _, tc := range []struct{ listen, want string }{
		{"127.0.0.1:0", `waiting for a debugger on 127\.0\.0\.1:[1-9][0-9]*\n` +
			`stub: attach with:  gdb -ex 'target remote 127\.0\.0\.1:[1-9][0-9]*'\n`},
		{"localhost:0", `waiting for a debugger on localhost:[1-9][0-9]*\n`},
		{"unix:" + sock, `waiting for a debugger on ` + regexp.QuoteMeta("unix:"+sock) + `\n` +
			`stub: attach with:  gdb -ex 'target remote ` + regexp.QuoteMeta(sock) + `'\n`},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			o, err := parseArgs([]string{"--listen", tc.listen, "--serial", "none"}, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var stderr testtool.SyncBuffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, o, stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &stderr}) }()
			// The banner is one write; a minute bounds a hang only.
			for giveUp := time.Now().Add(time.Minute); !strings.Contains(stderr.String(), "or:  lldb"); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(giveUp) {
					cancel()
					t.Fatalf("no banner: %s", stderr.String())
				}
			}
			cancel()
			if code := <-done; code != exitInterrupted {
				t.Errorf("exit %d after the context ended, want %d", code, exitInterrupted)
			}
			if !regexp.MustCompile(tc.want).MatchString(stderr.String()) {
				t.Errorf("banner:\n%s\nwant it to match %q", stderr.String(), tc.want)
			}
		})
	}
}
