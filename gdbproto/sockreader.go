package gdbproto

import (
	"bufio"
	"net"
	"time"
)

// socketReader is a connection's buffered reader, and the way to end a
// poll of its socket in progress (WithBusyPoll): cutPoll(true) makes the
// poll running now, or the next one, park at once; cutPoll(false)
// withdraws that if no poll took it. It does nothing where reads do not
// poll.
type socketReader struct {
	*bufio.Reader
	cutPoll func(on bool)
}

func newSocketReader(c net.Conn, busyPoll time.Duration) socketReader {
	r := newPollingReader(c, busyPoll)
	cut := func(bool) {}
	if p, ok := r.(interface{ cut(bool) }); ok {
		cut = p.cut
	}
	return socketReader{Reader: bufio.NewReaderSize(r, 1<<16), cutPoll: cut}
}
