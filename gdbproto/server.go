package gdbproto

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultPacketSize is the largest packet payload the server accepts and
// advertises in qSupported (PacketSize=4000, hex).
const DefaultPacketSize = 0x4000

// Outcome is how a debugger session ended.
type Outcome int

const (
	// OutcomeDisconnected: the debugger went away without detaching; the
	// target stays halted for the next debugger.
	OutcomeDisconnected Outcome = iota
	// OutcomeDetached: the debugger sent D; the target runs free.
	OutcomeDetached
	// OutcomeKilled: the debugger sent k or vKill; the stub should exit.
	OutcomeKilled
	// OutcomeExited: the target exited or was terminated (W or X was sent).
	OutcomeExited
	// OutcomeRefused: another debugger was attached; this one was turned
	// away.
	OutcomeRefused
)

func (o Outcome) String() string {
	switch o {
	case OutcomeDisconnected:
		return "disconnected"
	case OutcomeDetached:
		return "detached"
	case OutcomeKilled:
		return "killed"
	case OutcomeExited:
		return "exited"
	case OutcomeRefused:
		return "refused"
	}
	return "unknown"
}

// ErrKilled is returned by Serve when the debugger killed the target (k or
// vKill). QEMU exits in that case; so should the caller.
var ErrKilled = errors.New("gdbproto: the debugger killed the target")

// ErrBusy is returned by ServeConn when another debugger is attached.
var ErrBusy = errors.New("gdbproto: another debugger is attached")

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("gdbproto: server closed")

// ExitError is returned by Serve when the target exited (or was
// terminated), whether a debugger was attached or it was running free.
type ExitError struct {
	Stop StopEvent
}

func (e *ExitError) Error() string {
	if e.Stop.Reason == StopTerminated {
		return fmt.Sprintf("gdbproto: target terminated by signal %d", e.Stop.Signal)
	}
	return fmt.Sprintf("gdbproto: target exited with code %d", e.Stop.ExitCode)
}

// Option configures a Server.
type Option func(*Server)

// WithPacketSize sets the largest packet accepted (and advertised).
// Values below 256 are raised to 256.
func WithPacketSize(n int) Option {
	return func(s *Server) {
		if n < 256 {
			n = 256
		}
		s.packetSize = n
	}
}

// WithBusyPoll makes reads of a socket poll it before parking on the
// network poller, for a window that follows how long the debugger takes
// to send its next packet, up to d (default 0: park at once; Linux only,
// elsewhere it has no effect; busypoll_linux.go says how the window
// moves). A debugger in another process answers within microseconds
// while it steps, and each park and wakeup through epoll costs about as
// much: 50µs of polling raised gdb's stepi loop over TCP from 3,800 to
// 4,400-4,800 steps/s on a 2-core machine, and a window that catches the
// gaps between two stepi too (100-150 µs on a 2-core AMD EPYC) raised it
// from 2,110 to 2,590 on another (medians, a 300 µs bound). The price is
// one core while a debugger exchanges packets faster than d, and at most
// d of it after the last packet. Where the debugger and the stub share
// one core, polling holds the core the debugger needs to send its next
// packet: pinned to one CPU, stepi ran 35% slower with it, and with
// another program busy on one of two cores, 37% slower (docs/speed.md,
// "Sixth round"); so cmd/stub polls only when --busy-poll asks. A client
// in the same process (tests) is slowed too: its wakeup waits for the
// poll to end. A Close during a poll takes effect when the poll ends; the
// end of a resume cuts the interrupt watcher's poll short.
func WithBusyPoll(d time.Duration) Option { return func(s *Server) { s.busyPoll = d } }

// WithRLE turns run-length encoding of replies on or off (default on).
func WithRLE(on bool) Option { return func(s *Server) { s.rle = on } }

// WithStartRunning makes Serve let the target run free from the start
// (the stub's --wait=false) until a debugger attaches and stops it.
func WithStartRunning() Option { return func(s *Server) { s.startRunning = true } }

// WithResumeOnDetach chooses whether D lets the target run free (default
// true, as QEMU does) or leaves it halted.
func WithResumeOnDetach(on bool) Option { return func(s *Server) { s.resumeOnDetach = on } }

// WithLogf sets where the server logs session events (connections,
// refusals, protocol errors). Default: nowhere.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(s *Server) { s.logf = logf }
}

// WithUnattendedStop sets a function called when the target stops on its
// own while running free with no debugger attached (e.g. a triple fault
// after a detach). The target then stays halted for the next debugger,
// except for exits, which end Serve with an *ExitError.
func WithUnattendedStop(f func(StopEvent)) Option {
	return func(s *Server) { s.onUnattended = f }
}

// DefaultIdleHandshake is how long a new connection may take to send its
// first complete packet before it is closed (see WithIdleHandshake).
const DefaultIdleHandshake = 10 * time.Second

// WithIdleHandshake sets how long a connection may stay without sending
// one complete packet before the server closes it (default
// DefaultIdleHandshake, 10 s; d <= 0 keeps the default). Only the time
// before the first complete packet counts: a client that connects and
// says nothing would otherwise hold the single debugger slot for ever
// (and, with WithStartRunning, keep the target halted), while an
// attached debugger that is merely idle is never disconnected. The
// target keeps running free until the first packet arrives.
func WithIdleHandshake(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.idleHandshake = d
		}
	}
}

// WithPanics makes a panic in the target or in a packet handler propagate
// instead of becoming an E01 reply or a SIGABRT stop (fuzz targets and
// tests want to see them; a stub serving debuggers should not use it).
func WithPanics() Option { return func(s *Server) { s.repanic = true } }

// Server serves the GDB Remote Serial Protocol for one Target, one
// debugger at a time.
type Server struct {
	t              Target
	packetSize     int
	rle            bool
	busyPoll       time.Duration
	startRunning   bool
	resumeOnDetach bool
	logf           func(format string, args ...any)
	onUnattended   func(StopEvent)
	idleHandshake  time.Duration
	closing        chan struct{} // closed by Close
	closeOnce      sync.Once

	mu       sync.Mutex
	busy     bool          // a session is attached
	released chan struct{} // closed (and replaced) when a session ends
	lastStop StopEvent     // what '?' reports
	free     *freeRun      // the target running with no debugger, or nil
	closed   bool
	ln       net.Listener
	active   net.Conn // the attached debugger's connection
	// freeDone receives the stop of a free run that ended on its own.
	freeDone chan StopEvent

	// repanic makes the session re-raise panics instead of answering E
	// (tests and the fuzz target want to see them).
	repanic bool
}

type freeRun struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when Resume returned
	stop   StopEvent
}

// NewServer returns a server for t. The target is taken to be halted
// (stopped with SIGTRAP) unless WithStartRunning is given.
func NewServer(t Target, opts ...Option) *Server {
	s := &Server{
		t:              t,
		packetSize:     DefaultPacketSize,
		rle:            true,
		resumeOnDetach: true,
		logf:           func(string, ...any) {},
		onUnattended:   func(StopEvent) {},
		lastStop:       StopEvent{Reason: StopSignal, Signal: SIGTRAP},
		freeDone:       make(chan StopEvent, 1),
		released:       make(chan struct{}),
		idleHandshake:  DefaultIdleHandshake,
		closing:        make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Listen opens a listener for addr: "host:port" (TCP) or "unix:PATH" (a
// Unix socket created with mode 0600; a stale socket file is replaced).
func Listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, fmt.Errorf("listen %q: empty socket path", addr)
		}
		// sun_path holds 108 bytes with the NUL (unix(7)); the socket is
		// first bound under a temporary name in the same directory.
		if n := len(filepath.Dir(path)) + len(tmpSocketName); len(path) > maxSunPath || n > maxSunPath {
			return nil, fmt.Errorf("listen %q: the socket path is too long for a unix socket (at most %d bytes, and its directory at most %d)",
				addr, maxSunPath, maxSunPath-len(tmpSocketName))
		}
		// Who owns the path is decided by a lock next to it, not by
		// connecting: a connection to a running stub would be a debugger
		// attaching, and would halt its guest.
		lock, err := lockSocketPath(path + ".lock")
		if err != nil {
			return nil, fmt.Errorf("listen %q: %s is in use (%v)", addr, path, err)
		}
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket == 0 {
			lock.Close()
			return nil, fmt.Errorf("listen %q: %s exists and is not a socket", addr, path)
		}
		// A socket left there by an earlier run is replaced below.
		// Create the socket with no access for others: whoever connects
		// can run code in the target. The umask applies during bind.
		ln, err := listenUnixPrivate(path)
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("listen %q: %w", addr, err)
		}
		ln.lock = lock
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %q: %w", addr, err)
	}
	return ln, nil
}

// listenUnixPrivate creates the socket inside a fresh 0700 directory,
// makes it 0600, then renames it into place, so that at no moment can
// another user connect to it.
func listenUnixPrivate(path string) (*unixListener, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".gdbsock-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s") // as long as tmpSocketName
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		return nil, err
	}
	return &unixListener{UnixListener: ln, path: path}, nil
}

// Unix socket path limits: sun_path's 108 bytes less the NUL, and the
// temporary name listenUnixPrivate binds first ("/.gdbsock-" + MkdirTemp's
// up to 20 random digits + "/s").
const (
	maxSunPath    = 107
	tmpSocketName = "/.gdbsock-01234567890123456789/s"
)

// unixListener removes its socket file and releases the path's lock on
// Close.
type unixListener struct {
	*net.UnixListener
	path string
	lock io.Closer
	once sync.Once
}

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		os.Remove(l.path)
		if l.lock != nil {
			os.Remove(l.path + ".lock")
			l.lock.Close()
		}
	})
	return err
}

// IsLoopback reports whether addr ("host:port" or "unix:PATH") can only be
// reached from this machine. Unix sockets count as local. An empty host
// (":1234") listens on every interface and is not loopback; host names
// other than "localhost" are not resolved and count as non-loopback.
func IsLoopback(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LastStop returns the stop the next '?' will report.
func (s *Server) LastStop() StopEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastStop
}

// Close makes Serve return ErrServerClosed (closing its listener), hangs up
// on the attached debugger and stops a free-running target.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	ln, active := s.ln, s.active
	s.mu.Unlock()
	s.closeOnce.Do(func() { close(s.closing) })
	if active != nil {
		active.Close()
	}
	s.haltFreeRun()
	if ln != nil {
		return ln.Close()
	}
	return nil
}

// Serve accepts debuggers on l, one at a time, until the debugger kills the
// target (ErrKilled), the target exits (*ExitError), Close is called
// (ErrServerClosed) or l fails for good. A connection arriving while a
// debugger is attached is told so and closed; the attached session is
// unaffected. Temporary accept errors (out of file descriptors: EMFILE,
// ENFILE; an aborted connection) do not end Serve: as net/http's Server
// does, it retries after a pause growing from 5 ms to 1 s, logging once
// per burst of errors, and the attached debugger and the target carry on.
// Serve does not close l except on Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.ln = l
	s.mu.Unlock()
	if s.startRunning {
		s.startRunning = false
		s.startFreeRun()
	}

	type accepted struct {
		c   net.Conn
		err error
	}
	conns := make(chan accepted)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		var delay time.Duration // the backoff of a burst of accept errors
		failures := 0
		for {
			c, err := l.Accept()
			if err != nil && isTemporary(err) {
				if delay == 0 {
					delay = acceptRetryMin
					s.logf("gdbproto: accept: %v; retrying every %v to %v until it succeeds", err, acceptRetryMin, acceptRetryMax)
				} else if delay *= 2; delay > acceptRetryMax {
					delay = acceptRetryMax
				}
				failures++
				t := time.NewTimer(delay)
				select {
				case <-t.C:
					continue
				case <-s.closing:
					t.Stop()
					// Accept again: it fails for good on the closed
					// listener and Serve returns ErrServerClosed.
					continue
				case <-quit:
					t.Stop()
					return
				}
			}
			if err == nil && failures > 0 {
				s.logf("gdbproto: accepting again after %d failed attempts", failures)
				delay, failures = 0, 0
			}
			select {
			case conns <- accepted{c, err}:
			case <-quit:
				if c != nil {
					c.Close()
				}
				return
			}
			if err != nil {
				return
			}
		}
	}()

	type ended struct {
		o   Outcome
		err error
	}
	results := make(chan ended)
	for {
		select {
		case a := <-conns:
			if a.err != nil {
				s.mu.Lock()
				closed := s.closed
				s.mu.Unlock()
				if closed {
					return ErrServerClosed
				}
				return fmt.Errorf("accept: %w", a.err)
			}
			go func(c net.Conn) {
				o, err := s.ServeConn(c)
				select {
				case results <- ended{o, err}:
				case <-quit:
				}
			}(a.c)
		case e := <-results:
			if e.err != nil {
				s.logf("gdbproto: session ended: %v (%v)", e.o, e.err)
			} else {
				s.logf("gdbproto: session ended: %v", e.o)
			}
			switch e.o {
			case OutcomeKilled:
				return ErrKilled
			case OutcomeExited:
				return &ExitError{Stop: s.LastStop()}
			}
		case st := <-s.freeDone:
			if st.Exited() {
				return &ExitError{Stop: st}
			}
		}
	}
}

// The backoff between retries of a failed Accept, as net/http's Server.
const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = time.Second
)

// isTemporary reports whether an Accept error may go away by itself (out
// of file descriptors or buffers, a connection aborted before it was
// accepted): net/http's Server retries on the same test. A closed
// listener is permanent.
func isTemporary(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	var te interface{ Temporary() bool }
	return errors.As(err, &te) && te.Temporary()
}

// acquire marks the server busy; false if a session is already attached.
func (s *Server) acquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy {
		return false
	}
	s.busy = true
	return true
}

// acquireWithin waits up to d for the attached session to end, then
// acquires the server.
func (s *Server) acquireWithin(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if !s.busy {
			s.busy = true
			s.mu.Unlock()
			return true
		}
		ch := s.released
		s.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return false
		}
	}
}

func (s *Server) release() {
	s.mu.Lock()
	s.busy = false
	close(s.released)
	s.released = make(chan struct{})
	s.mu.Unlock()
}

// handoverGrace is how long a newcomer waits for the attached session to
// end before it is refused. A debugger that hangs up and reconnects at once
// (or a script running gdb twice in a row) races the server noticing the
// hang-up; the grace lets the second one in.
const handoverGrace = 2 * time.Second

// ServeConn runs one debugger session on c and closes c. If another
// session stays attached, c is refused (see refuse) and ServeConn returns
// OutcomeRefused, ErrBusy. The error is nil for a clean end (detach, kill,
// target exit, the debugger hanging up) and says what failed otherwise.
func (s *Server) ServeConn(c net.Conn) (Outcome, error) {
	if s.acquire() {
		return s.serveAcquired(c, socketReader{}, nil)
	}
	// Busy: wait for the newcomer's first packet (gdb would discard a
	// reply that arrives before it asked anything), then for the
	// attached session to end, within a grace period.
	br := newSocketReader(c, s.busyPoll)
	fr := frameReader{r: br.Reader, maxSize: s.packetSize}
	c.SetReadDeadline(time.Now().Add(s.idleHandshake))
	var first event
	for {
		first = fr.next()
		if first.kind == evEOF || first.kind == evTimeout {
			c.Close()
			return OutcomeRefused, ErrBusy
		}
		if first.kind == evPacket || first.kind == evBadChecksum || first.kind == evOversize {
			break
		}
	}
	c.SetReadDeadline(time.Time{})
	if s.acquireWithin(handoverGrace) {
		return s.serveAcquired(c, br, &first)
	}
	s.refuse(c)
	return OutcomeRefused, ErrBusy
}

func (s *Server) serveAcquired(c net.Conn, br socketReader, first *event) (Outcome, error) {
	defer s.release()
	defer c.Close()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return OutcomeDisconnected, ErrServerClosed
	}
	s.active = c // Close hangs up on it, in the handshake too
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active = nil
		s.mu.Unlock()
	}()
	if first == nil {
		// Hold the slot only for a client that speaks: one that sends
		// no complete packet within the handshake limit is closed. The
		// target is stopped once it has.
		br = newSocketReader(c, s.busyPoll)
		ev, ok := s.firstPacket(c, br.Reader)
		if !ok {
			if ev.kind == evTimeout {
				s.logf("gdbproto: closed %s: no complete packet within %v", c.RemoteAddr(), s.idleHandshake)
				return OutcomeDisconnected, nil
			}
			return OutcomeDisconnected, hangupError(ev.err)
		}
		first = &ev
	}
	// A debugger attaching to a free-running target stops it, as QEMU
	// does when gdb connects.
	s.haltFreeRun()
	s.logf("gdbproto: debugger attached from %s", c.RemoteAddr())
	ss := newSession(s, c, br, first)
	o, err := ss.run()
	if o == OutcomeDisconnected {
		// The debugger vanished without detaching: the target stays
		// halted, but the breakpoints and watchpoints it left must not
		// stop the next debugger at addresses it never asked for.
		if d, ok := s.t.(Detacher); ok {
			if derr := d.Detach(); derr != nil {
				s.logf("gdbproto: dropping a vanished debugger's breakpoints: %v", derr)
			}
		}
	}
	if o == OutcomeDetached && s.resumeOnDetach {
		s.startFreeRun()
	}
	return o, err
}

// firstPacket reads a new connection's input up to its first complete
// packet (acks and interrupts before it need nothing), within the
// handshake limit; false if the client hung up or the limit passed.
func (s *Server) firstPacket(c net.Conn, br *bufio.Reader) (event, bool) {
	fr := frameReader{r: br, maxSize: s.packetSize}
	c.SetReadDeadline(time.Now().Add(s.idleHandshake))
	defer c.SetReadDeadline(time.Time{})
	for {
		ev := fr.next()
		switch ev.kind {
		case evEOF, evTimeout:
			return ev, false
		case evPacket, evBadChecksum, evOversize:
			return ev, true
		}
	}
}

// refusalMessage is what a second debugger is told.
const refusalMessage = "another debugger is already attached to this target"

// refuse answers a second debugger's first packet (already read) with an
// "E.message" error, which gdb shows as "Remote failure reply:
// E.another debugger is already attached to this target", and hangs up.
func (s *Server) refuse(c net.Conn) {
	defer c.Close()
	s.logf("gdbproto: refused %s: %s", c.RemoteAddr(), refusalMessage)
	c.SetDeadline(time.Now().Add(10 * time.Second)) // safety net only
	c.Write([]byte("+"))
	c.Write(frame([]byte("E."+refusalMessage), false))
	// Let the reply reach the client before the close.
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
		io.Copy(io.Discard, io.LimitReader(c, 1<<16))
	}
}

// startFreeRun lets the target run with no debugger attached until
// haltFreeRun or a stop of its own.
func (s *Server) startFreeRun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.free != nil || s.closed || s.lastStop.Exited() {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	fr := &freeRun{cancel: cancel, done: make(chan struct{})}
	s.free = fr
	go func() {
		st, err := s.safeResume(ctx, Action{})
		if err != nil {
			st = StopEvent{Reason: StopSignal, Signal: SIGABRT, Message: "target error: " + err.Error() + "\n"}
		}
		fr.stop = st
		s.mu.Lock()
		s.lastStop = st
		unattended := s.free == fr // nobody asked it to stop
		if unattended {
			s.free = nil
		}
		s.mu.Unlock()
		close(fr.done)
		cancel()
		if unattended {
			s.logf("gdbproto: target stopped with no debugger attached: %v", st.Reason)
			s.onUnattended(st)
			select {
			case s.freeDone <- st:
			default:
			}
		}
	}()
}

// haltFreeRun stops a free-running target and waits for it.
func (s *Server) haltFreeRun() {
	s.mu.Lock()
	fr := s.free
	s.free = nil
	s.mu.Unlock()
	if fr == nil {
		return
	}
	fr.cancel()
	<-fr.done
}

// safeResume calls Resume, turning a panic in the target into an error.
func (s *Server) safeResume(ctx context.Context, a Action) (st StopEvent, err error) {
	defer func() {
		if r := recover(); r != nil {
			if s.repanic {
				panic(r)
			}
			err = fmt.Errorf("panic in target: %v", r)
		}
	}()
	return s.t.Resume(ctx, a)
}
