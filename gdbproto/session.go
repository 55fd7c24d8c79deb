package gdbproto

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// writeTimeout bounds a write to a debugger that stopped reading (a safety
// net: the session then ends as if the debugger had hung up).
const writeTimeout = 30 * time.Second

// session is one debugger's connection. Its goroutine is the only one that
// writes to the connection and calls the target (Resume runs on a helper
// goroutine while the session goroutine watches the connection for 0x03).
type session struct {
	srv    *Server
	t      Target
	c      net.Conn
	br     *bufio.Reader
	events chan event
	quit   chan struct{}

	noAck     bool   // after QStartNoAckMode
	lastFrame []byte // the last packet sent, resent on '-'
	writeErr  error

	// What the debugger said it understands (qSupported) or asked for.
	swbreak      bool
	hwbreak      bool
	threadSuffix bool // lldb: QThreadSuffixSupported
	listThreads  bool // lldb: QListThreadsInStopReply

	files  map[int]*hostFile // vFile descriptors
	nextFD int
}

// newSession prepares a session on c. br, when not nil, is a reader on c
// that already holds buffered input, and first an event already read.
func newSession(srv *Server, c net.Conn, br *bufio.Reader, first *event) *session {
	if br == nil {
		br = bufio.NewReaderSize(c, 1<<16)
	}
	ss := &session{
		srv:    srv,
		t:      srv.t,
		c:      c,
		events: make(chan event, 16),
		quit:   make(chan struct{}),
		files:  map[int]*hostFile{},
		nextFD: 3,
		br:     br,
	}
	if first != nil {
		ss.events <- *first
	}
	return ss
}

// readLoop feeds events from the connection until it fails.
func (ss *session) readLoop() {
	fr := frameReader{r: ss.br, maxSize: ss.srv.packetSize}
	for {
		ev := fr.next()
		select {
		case ss.events <- ev:
		case <-ss.quit:
			return
		}
		if ev.kind == evEOF {
			return
		}
	}
}

// control tells the loop what a packet asks for beyond its reply.
type control struct {
	kind    controlKind
	action  Action  // for ctlResume
	outcome Outcome // for ctlEnd
}

type controlKind int

const (
	ctlNone controlKind = iota
	ctlResume
	ctlEnd
)

// run serves the session until it ends.
func (ss *session) run() (Outcome, error) {
	go ss.readLoop()
	defer close(ss.quit)
	for {
		ev := <-ss.events
		if o, err, done := ss.handleEvent(ev); done {
			return o, err
		}
		if ss.writeErr != nil {
			return OutcomeDisconnected, ss.writeErr
		}
	}
}

// hangupError turns a read error into the session's error: a debugger
// that hangs up is not an error.
func hangupError(err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (ss *session) handleEvent(ev event) (Outcome, error, bool) {
	switch ev.kind {
	case evEOF:
		return OutcomeDisconnected, hangupError(ev.err), true
	case evAck, evInterrupt:
		// '+' needs nothing (we never wait for acks: '-' resends).
		// 0x03 while halted: the target is already stopped (gdb may
		// send it just as a stop reply crosses it); nothing to do.
	case evNack:
		if !ss.noAck && ss.lastFrame != nil {
			ss.write(ss.lastFrame)
		}
	case evOversize:
		ss.ack()
		ss.send([]byte(errInvalid))
	case evBadChecksum:
		if !ss.noAck {
			ss.write([]byte("-"))
			return 0, nil, false
		}
		// In no-ack mode nobody would resend: take the packet, as
		// gdbserver does.
		fallthrough
	case evPacket:
		ss.ack()
		ctl := ss.handle(ev.data)
		switch ctl.kind {
		case ctlEnd:
			return ctl.outcome, nil, true
		case ctlResume:
			if o, err, done := ss.resume(ctl.action); done {
				return o, err, true
			}
		}
	}
	return 0, nil, false
}

func (ss *session) ack() {
	if !ss.noAck {
		ss.write([]byte("+"))
	}
}

func (ss *session) write(b []byte) {
	if ss.writeErr != nil {
		return
	}
	ss.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := ss.c.Write(b); err != nil {
		ss.writeErr = fmt.Errorf("write: %w", err)
	}
}

// send frames and writes one reply.
func (ss *session) send(payload []byte) {
	f := frame(payload, ss.srv.rle)
	ss.lastFrame = f
	ss.write(f)
}

// console sends text to the debugger's console as O packets.
func (ss *session) console(text string) {
	chunk := (ss.srv.packetSize - 1) / 2
	for len(text) > 0 {
		n := min(chunk, len(text))
		p := make([]byte, 0, 1+2*n)
		p = append(p, 'O')
		p = appendHex(p, []byte(text[:n]))
		ss.send(p)
		text = text[n:]
	}
}

// consoleWriter is the io.Writer a Monitor writes to.
type consoleWriter struct{ ss *session }

func (w consoleWriter) Write(p []byte) (int, error) {
	w.ss.console(string(p))
	if w.ss.writeErr != nil {
		return 0, w.ss.writeErr
	}
	return len(p), nil
}

type resumeResult struct {
	stop StopEvent
	err  error
}

// resume runs the target until it stops, watching the connection for the
// interrupt byte, then sends the stop reply.
func (ss *session) resume(a Action) (Outcome, error, bool) {
	if last := ss.srv.LastStop(); last.Exited() {
		ss.send(ss.stopReply(last))
		return OutcomeExited, nil, true
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan resumeResult, 1)
	go func() {
		st, err := ss.srv.safeResume(ctx, a)
		done <- resumeResult{st, err}
	}()
	events := ss.events
	var console <-chan []byte
	if co, ok := ss.t.(ConsoleOutput); ok {
		console = co.ConsoleOutput()
	}
	var gone error // set when the debugger vanished while the target ran
	hungUp := false
	for {
		select {
		case r := <-done:
			st := r.stop
			if r.err != nil {
				st = StopEvent{Reason: StopSignal, Signal: SIGABRT, Message: "target error: " + r.err.Error() + "\n"}
			}
			ss.srv.mu.Lock()
			ss.srv.lastStop = st
			ss.srv.mu.Unlock()
			if hungUp {
				// Nobody to tell: the target stays halted for the
				// next debugger.
				return OutcomeDisconnected, gone, true
			}
			if st.Message != "" {
				ss.console(st.Message)
			}
			ss.send(ss.stopReply(st))
			if st.Exited() {
				return OutcomeExited, nil, true
			}
			return 0, nil, false
		case text, ok := <-console:
			if !ok {
				console = nil
			} else if !hungUp && len(text) > 0 {
				ss.console(string(text))
			}
		case ev := <-events:
			switch ev.kind {
			case evInterrupt:
				cancel()
			case evEOF:
				cancel()
				hungUp, gone = true, hangupError(ev.err)
				events = nil
			case evNack:
				if !ss.noAck && ss.lastFrame != nil {
					ss.write(ss.lastFrame)
				}
			case evPacket, evBadChecksum, evOversize:
				// All-stop mode: a debugger sends nothing but 0x03
				// while the target runs. Acknowledge and drop.
				ss.ack()
			}
		}
	}
}
