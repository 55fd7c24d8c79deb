package target

// consoleRing keeps the last bytes the guest sent to the serial port, so
// tests and the debugger can look at the console without a writer.
type consoleRing struct {
	buf   []byte // capacity fixed at construction
	start int    // index of the oldest byte when full
	full  bool
	total uint64 // bytes ever written
}

const consoleRingSize = 64 << 10

func newConsoleRing(size int) consoleRing {
	return consoleRing{buf: make([]byte, 0, size)}
}

func (r *consoleRing) writeByte(b byte) {
	r.total++
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, b)
		return
	}
	if cap(r.buf) == 0 {
		return
	}
	r.full = true
	r.buf[r.start] = b
	r.start = (r.start + 1) % len(r.buf)
}

// bytes returns a copy of the kept bytes, oldest first.
func (r *consoleRing) bytes() []byte {
	out := make([]byte, 0, len(r.buf))
	out = append(out, r.buf[r.start:]...)
	return append(out, r.buf[:r.start]...)
}

// clone returns an independent copy (for machine snapshots).
func (r *consoleRing) clone() consoleRing {
	c := *r
	c.buf = append(make([]byte, 0, cap(r.buf)), r.buf...)
	return c
}
