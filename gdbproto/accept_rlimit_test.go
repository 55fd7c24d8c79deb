//go:build linux || darwin

package gdbproto

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// idleClientsEnv makes the test binary act as the helper process of
// TestAcceptErrorsKeepServing: it dials the address in the variable 120
// times once told to, then holds the connections until its stdin closes.
const idleClientsEnv = "GDBPROTO_IDLE_CLIENTS_ADDR"

func TestMain(m *testing.M) {
	if addr := os.Getenv(idleClientsEnv); addr != "" {
		os.Exit(idleClients(addr))
	}
	os.Exit(m.Run())
}

func idleClients(addr string) int {
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return 1
	}
	var conns []net.Conn
	for range 120 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	in.ReadString('\n') // until stdin closes
	for _, c := range conns {
		c.Close()
	}
	return 0
}

// TestAcceptErrorsKeepServing: with the process out of file descriptors
// (as under `ulimit -n 64`) and 120 connections waiting to be accepted,
// Accept fails with EMFILE; Serve must not return: the attached debugger
// keeps working and, once descriptors are free again, a later debugger
// attaches.
func TestAcceptErrorsKeepServing(t *testing.T) {
	f := newFake()
	logs := make(chan string, 1024)
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		select {
		case logs <- fmt.Sprintf(format, args...):
		default:
		}
	}
	_, addr, done := startServer(t, f, WithLogf(logf), WithIdleHandshake(time.Minute))
	first := dial(t, addr)
	if got := first.cmd("m1000,2"); got != "0001" {
		t.Fatalf("m1000,2: %q", got)
	}

	// The helper runs in its own process, so its connections take none
	// of this process's descriptors.
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), idleClientsEnv+"="+addr)
	helper.Stderr = os.Stderr
	toHelper, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	fromHelper, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Wait()
	defer toHelper.Close()

	// Use up this process's descriptors: a low limit, then files up to it.
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := old
	low.Cur = 64
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var fillers []*os.File
	release := func() {
		for _, f := range fillers {
			f.Close()
		}
		fillers = nil
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	}
	defer release()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("filling the descriptor table: %v", err)
			}
			break
		}
		fillers = append(fillers, f)
	}

	// 120 connections arrive; none can be accepted.
	if _, err := toHelper.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(fromHelper).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper: %q %v", line, err)
	}
	safety := time.After(time.Minute) // safety net only
wait:
	for {
		select {
		case msg := <-logs:
			if strings.Contains(msg, "accept") {
				break wait
			}
		case err := <-done:
			t.Fatalf("Serve returned %v while out of descriptors", err)
		case <-safety:
			t.Fatal("no accept error logged with the descriptors used up")
		}
	}
	// Let the backoff retry a few times: one line for the whole burst.
	time.Sleep(100 * time.Millisecond)
	for n := len(logs); n > 0; n-- {
		if msg := <-logs; strings.Contains(msg, "accept") {
			t.Errorf("logged again during the same burst: %s", msg)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v while out of descriptors", err)
	default:
	}
	if got := first.cmd("m1000,2"); got != "0001" {
		t.Errorf("the attached debugger, out of descriptors: %q", got)
	}

	// The others go away, descriptors come back; the first debugger
	// leaves and a later one attaches.
	toHelper.Close()
	helper.Wait()
	release()
	first.c.Close()
	later := dial(t, addr)
	if got := later.cmd("?"); !strings.HasPrefix(got, "T") && !strings.HasPrefix(got, "S") {
		t.Errorf("? from a later debugger: %q", got)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v", err)
	default:
	}
}
