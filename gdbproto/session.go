package gdbproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// writeTimeout bounds a write to a debugger that stopped reading (a safety
// net: the session then ends as if the debugger had hung up).
const writeTimeout = 30 * time.Second

// session is one debugger's connection. Its goroutine reads the
// connection, answers packets and runs the target: there is no goroutine
// hop per packet on the hot path (a stepi is four to nine round trips). While
// the target runs, a watcher goroutine reads the connection for 0x03 (see
// resume); it hands the reader back before the stop reply goes out.
type session struct {
	srv *Server
	t   Target
	c   net.Conn
	fr  frameReader

	cutPoll func(on bool) // ends a poll of the socket in progress (socketReader)

	first *event // an event read before the session started (busy handover)

	// wmu guards the connection's write side: the console forwarder and
	// the watcher write while the target runs.
	wmu        sync.Mutex
	noAck      bool   // after QStartNoAckMode
	ackPending bool   // a '+' to send with the next write (one syscall, not two)
	lastFrame  []byte // the last packet sent, resent on '-' (aliases fbuf)
	fbuf, wbuf []byte // reused frame and write buffers
	writeErr   error

	// What the debugger said it understands (qSupported) or asked for.
	swbreak      bool
	hwbreak      bool
	threadSuffix bool // lldb: QThreadSuffixSupported
	listThreads  bool // lldb: QListThreadsInStopReply

	files  map[int]*hostFile // vFile descriptors
	nextFD int

	running       atomic.Pointer[watch] // the resume in progress, for the sentinel
	sentinelAwake atomic.Bool           // the sentinel is ticking
	wakeSentinel  chan struct{}         // wakes a sleeping sentinel
	writeDeadline time.Time             // the write deadline last set
}

// newSession prepares a session on c. br, when set, is a reader on c
// that already holds buffered input, and first an event already read.
func newSession(srv *Server, c net.Conn, br socketReader, first *event) *session {
	if br.Reader == nil {
		br = newSocketReader(c, srv.busyPoll)
	}
	return &session{
		srv:     srv,
		t:       srv.t,
		c:       c,
		fr:      frameReader{r: br.Reader, maxSize: srv.packetSize},
		cutPoll: br.cutPoll,
		first:   first,
		files:   map[int]*hostFile{},

		wakeSentinel: make(chan struct{}, 1),
		nextFD:       3,
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
	quit := make(chan struct{})
	defer close(quit)
	go ss.sentinel(quit)
	for {
		var ev event
		if ss.first != nil {
			ev, ss.first = *ss.first, nil
		} else {
			ev = ss.fr.next()
		}
		if ev.kind == evTimeout {
			// Only resume sets read deadlines, and it clears them;
			// a stray one must not spin this loop.
			return OutcomeDisconnected, fmt.Errorf("read: %w", ev.err)
		}
		if o, err, done := ss.handleEvent(ev); done {
			ss.flushAck()
			return o, err
		}
		ss.flushAck()
		if err := ss.werr(); err != nil {
			return OutcomeDisconnected, err
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
			// The debugger waits for the '+' before it may send 0x03.
			ss.flushAck()
			if o, err, done := ss.resume(ctl.action); done {
				return o, err, true
			}
		}
	}
	return 0, nil, false
}

// ack acknowledges a packet (until no-ack mode). The '+' goes out with
// the reply, in one write.
func (ss *session) ack() {
	if !ss.noAck {
		ss.wmu.Lock()
		ss.ackPending = true
		ss.wmu.Unlock()
	}
}

// flushAck sends an acknowledgement no reply carried.
func (ss *session) flushAck() {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	if ss.ackPending {
		ss.writeLocked(nil)
	}
}

func (ss *session) werr() error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	return ss.writeErr
}

func (ss *session) write(b []byte) {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	ss.writeLocked(b)
}

func (ss *session) writeLocked(b []byte) {
	if ss.ackPending {
		ss.ackPending = false
		ss.wbuf = append(append(ss.wbuf[:0], '+'), b...)
		b = ss.wbuf
	}
	if ss.writeErr != nil || len(b) == 0 {
		return
	}
	// Moving the deadline is a timer update per write; a deadline
	// refreshed once in a while bounds a stuck debugger just as well.
	if now := time.Now(); ss.writeDeadline.Sub(now) < writeTimeout/2 {
		ss.writeDeadline = now.Add(writeTimeout)
		ss.c.SetWriteDeadline(ss.writeDeadline)
	}
	if _, err := ss.c.Write(b); err != nil {
		ss.writeErr = fmt.Errorf("write: %w", err)
	}
}

// resend answers '-' with the last packet again.
func (ss *session) resend() {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	if !ss.noAck && ss.lastFrame != nil {
		ss.writeLocked(ss.lastFrame)
	}
}

// send frames and writes one reply.
func (ss *session) send(payload []byte) {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	ss.fbuf = appendFrame(ss.fbuf[:0], payload, ss.srv.rle)
	ss.lastFrame = ss.fbuf
	ss.writeLocked(ss.fbuf)
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

// watchTick is the period at which a session's sentinel looks for a
// resume that has lasted a whole tick and starts its watcher, which reads
// the connection for 0x03. Most resumes are single steps (one instruction)
// or continues to a nearby breakpoint: for them no watcher starts (a
// goroutine, a read that would block, a wakeup; a timer armed per resume
// costs about as much, as arming it wakes the network poller). A run that
// lasts gets its watcher within two ticks; an interrupt sent earlier waits
// in the socket until then.
const watchTick = time.Millisecond

// sentinelIdle is how long the sentinel keeps ticking with nothing
// running before it sleeps until the next resume wakes it.
const sentinelIdle = time.Second

// sentinel starts the watcher of a resume that has been running for a
// whole tick, until quit is closed.
func (ss *session) sentinel(quit <-chan struct{}) {
	for {
		select {
		case <-quit:
			return
		case <-ss.wakeSentinel:
		}
		if !ss.tickSentinel(quit) {
			return
		}
	}
}

// tickSentinel ticks until the session has been idle for sentinelIdle
// (true) or quit is closed (false).
func (ss *session) tickSentinel(quit <-chan struct{}) bool {
	tick := time.NewTicker(watchTick)
	defer tick.Stop()
	var seen *watch
	idle := 0
	for {
		select {
		case <-quit:
			return false
		case <-tick.C:
		}
		w := ss.running.Load()
		if w == nil {
			idle++
		} else {
			idle = 0
			if w == seen {
				w.start()
			}
		}
		seen = w
		if idle >= int(sentinelIdle/watchTick) {
			ss.sentinelAwake.Store(false)
			// A resume that started before the store saw the
			// sentinel awake and did not wake it: look again.
			if ss.running.Load() == nil {
				return true
			}
			ss.sentinelAwake.Store(true)
			idle = 0
		}
	}
}

// resume runs the target on the session goroutine until it stops, with a
// watcher reading the connection for the interrupt byte, then sends the
// stop reply.
func (ss *session) resume(a Action) (Outcome, error, bool) {
	if last := ss.srv.LastStop(); last.Exited() {
		ss.send(ss.stopReply(last))
		return OutcomeExited, nil, true
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &watch{ss: ss, cancel: cancel}
	ss.running.Store(w)
	if !ss.sentinelAwake.Load() && ss.sentinelAwake.CompareAndSwap(false, true) {
		select {
		case ss.wakeSentinel <- struct{}{}:
		default:
		}
	}
	st, err := ss.srv.safeResume(ctx, a)
	ss.running.Store(nil)
	hungUp, gone := w.stop()
	if w.leftover != nil {
		ss.first = w.leftover
	}
	if err != nil {
		st = StopEvent{Reason: StopSignal, Signal: SIGABRT, Message: "target error: " + err.Error() + "\n"}
	}
	ss.srv.mu.Lock()
	ss.srv.lastStop = st
	ss.srv.mu.Unlock()
	if hungUp {
		// Nobody to tell: the target stays halted for the next
		// debugger.
		return OutcomeDisconnected, gone, true
	}
	ss.drainConsole()
	if st.Message != "" {
		ss.console(st.Message)
	}
	ss.send(ss.stopReply(st))
	if st.Exited() {
		return OutcomeExited, nil, true
	}
	return 0, nil, false
}

// drainConsole forwards console output that is already waiting.
func (ss *session) drainConsole() {
	co, ok := ss.t.(ConsoleOutput)
	if !ok {
		return
	}
	ch := co.ConsoleOutput()
	for {
		select {
		case text, ok := <-ch:
			if !ok {
				return
			}
			if len(text) > 0 {
				ss.console(string(text))
			}
		default:
			return
		}
	}
}

// watch reads the connection while the target runs on the session
// goroutine: 0x03 (or a hang-up) cancels the run; in all-stop mode a
// debugger sends nothing else, so other packets are acknowledged and
// dropped, and '-' gets the last packet again. It also forwards the
// target's console output. stop takes the connection back: an expired
// read deadline wakes the watcher, whose partial frame, if any, stays in
// the frame reader for the session.
type watch struct {
	ss     *session
	cancel context.CancelFunc

	mu      sync.Mutex
	started bool
	stopped bool
	quit    chan struct{} // closed by stop
	done    chan struct{} // closed when the reader has exited
	fwdDone chan struct{} // closed when the console forwarder has exited

	hungUp   bool
	gone     error
	leftover *event // read after the target stopped: the session's
}

func (w *watch) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || w.started {
		return
	}
	w.started = true
	w.quit = make(chan struct{})
	w.done = make(chan struct{})
	go w.read()
	if co, ok := w.ss.t.(ConsoleOutput); ok {
		w.fwdDone = make(chan struct{})
		go w.forward(co.ConsoleOutput())
	}
}

func (w *watch) read() {
	defer close(w.done)
	ss := w.ss
	for {
		ev := ss.fr.next()
		select {
		case <-w.quit:
			// The target stopped: what came after is the session's.
			if ev.kind != evTimeout {
				w.leftover = &ev
			}
			return
		default:
		}
		switch ev.kind {
		case evTimeout:
			// Only stop sets a deadline, after closing quit.
			continue
		case evInterrupt:
			// The target stops soon; what follows the interrupt is
			// for the session, after the stop reply.
			w.cancel()
			<-w.quit
			return
		case evEOF:
			w.cancel()
			w.hungUp, w.gone = true, hangupError(ev.err)
			return
		case evNack:
			ss.resend()
		case evPacket, evBadChecksum, evOversize:
			ss.ack()
			ss.flushAck()
		}
	}
}

func (w *watch) forward(ch <-chan []byte) {
	defer close(w.fwdDone)
	for {
		select {
		case text, ok := <-ch:
			if !ok {
				return
			}
			if len(text) > 0 {
				w.ss.console(string(text))
			}
		case <-w.quit:
			return
		}
	}
}

// stop ends the watch after the target stopped and reports whether the
// debugger hung up meanwhile.
func (w *watch) stop() (hungUp bool, gone error) {
	w.mu.Lock()
	w.stopped = true
	started := w.started
	w.mu.Unlock()
	if !started {
		return false, nil
	}
	close(w.quit)
	// The deadline wakes a parked read; a read still polling the socket
	// would see it only when its window ends.
	w.ss.cutPoll(true)
	w.ss.c.SetReadDeadline(time.Unix(1, 0))
	<-w.done
	w.ss.c.SetReadDeadline(time.Time{})
	// A watcher already parked took no cut: the session's next read
	// polls as usual.
	w.ss.cutPoll(false)
	if w.fwdDone != nil {
		<-w.fwdDone
	}
	return w.hungUp, w.gone
}
