package gdbproto

import (
	"bufio"
	"net"
	"time"
)

// socketReader is a connection's buffered reader, and the way to end a
// poll of its socket in progress (WithBusyPoll): cutPoll makes the poll
// running now, or the next one, park at once. It does nothing where reads
// do not poll.
type socketReader struct {
	*bufio.Reader
	cutPoll func()
}

func newSocketReader(c net.Conn, busyPoll time.Duration) socketReader {
	r := newPollingReader(c, busyPoll)
	cut := func() {}
	if p, ok := r.(interface{ cut() }); ok {
		cut = p.cut
	}
	return socketReader{Reader: bufio.NewReaderSize(r, 1<<16), cutPoll: cut}
}
