package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// The console: with --serial stdio, what the user types goes to COM1's
// receiver. On a terminal, the terminal is put in raw mode (so keys such as
// Ctrl-C reach the guest, as under QEMU -nographic) and Ctrl-a starts an
// escape as in QEMU's character-device multiplexer: Ctrl-a x quits, Ctrl-a
// Ctrl-a (or Ctrl-a a) sends one Ctrl-a, Ctrl-a h prints the list; any
// other key after Ctrl-a is dropped. Piped input goes to the guest as it is.

const escapeChar = 0x01 // Ctrl-a

const escapeHelp = "\r\nC-a h    print this help\r\n" +
	"C-a x    exit the stub\r\n" +
	"C-a C-a  send C-a to the guest\r\n"

// escapeReader passes bytes through, acting on Ctrl-a sequences. quit is
// called on Ctrl-a x, after which Read reports io.EOF.
type escapeReader struct {
	r       io.Reader
	help    io.Writer
	quit    func()
	escaped bool // the last byte read was Ctrl-a
	done    bool
}

func (e *escapeReader) Read(p []byte) (int, error) {
	for {
		if e.done {
			return 0, io.EOF
		}
		n, err := e.r.Read(p)
		out := p[:0]
		for _, b := range p[:n] {
			if e.done {
				break
			}
			if !e.escaped {
				if b == escapeChar {
					e.escaped = true
				} else {
					out = append(out, b)
				}
				continue
			}
			e.escaped = false
			switch b {
			case 'x', 'X':
				e.done = true
				e.quit()
			case escapeChar, 'a':
				out = append(out, escapeChar)
			case 'h', '?':
				io.WriteString(e.help, escapeHelp)
			}
		}
		// out aliases p's front: it never runs ahead of the loop.
		if len(out) > 0 || err != nil {
			return len(out), err
		}
		if e.done {
			return 0, io.EOF
		}
	}
}

// consoleInput prepares stdin for COM1: on a terminal, raw mode and the
// Ctrl-a escapes (restore undoes the raw mode); otherwise stdin as it is.
func consoleInput(in io.Reader, errw io.Writer, quit func()) (r io.Reader, restore func(), err error) {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return in, func() {}, nil
	}
	old, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		return nil, nil, fmt.Errorf("putting the terminal in raw mode: %w", err)
	}
	// MakeRaw also turns off output processing, so a bare "\n" from the
	// guest or from our own messages would no longer return the carriage:
	// keep it on, as QEMU's stdio character device does.
	if err := keepOutputProcessing(int(f.Fd())); err != nil {
		term.Restore(int(f.Fd()), old)
		return nil, nil, fmt.Errorf("terminal output processing: %w", err)
	}
	io.WriteString(errw, "stub: the console is raw: Ctrl-a x quits, Ctrl-a h lists the keys\r\n")
	return &escapeReader{r: in, help: errw, quit: quit}, func() { term.Restore(int(f.Fd()), old) }, nil
}
