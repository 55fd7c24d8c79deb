package gdbproto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
)

// Error replies. gdb only checks for "E" and two hex digits; the numbers
// follow gdbserver's errno-style convention.
const (
	errGeneric  = "E01"
	errFault    = "E14" // EFAULT: memory not accessible (as gdbserver and QEMU)
	errInvalid  = "E16" // EINVAL: malformed or out-of-range argument
	errRegister = "E45" // no such register (lldb-server's choice)
	errNoAnnex  = "E00" // qXfer: unknown annex (as gdbserver)
)

// threadID is the one thread's id; the fake process id is 1 too.
const threadID = 1

// handle answers one packet. One parser per packet: the first byte (and for
// q/Q/v the name) selects a handler which parses its own arguments and
// answers malformed ones with an error reply; nothing a debugger sends may
// panic the process (a panic in the target becomes E01).
func (ss *session) handle(pkt []byte) (ctl control) {
	defer func() {
		if r := recover(); r != nil {
			if ss.srv.repanic {
				panic(r)
			}
			ss.srv.logf("gdbproto: panic handling %q: %v", truncate(pkt), r)
			ss.send([]byte(errGeneric))
			ctl = control{}
		}
	}()
	if len(pkt) == 0 {
		ss.send(nil)
		return control{}
	}
	args := pkt[1:]
	switch pkt[0] {
	case '?':
		ss.send(ss.stopReply(ss.srv.LastStop()))
	case 'g':
		ss.readRegisters()
	case 'G':
		ss.writeRegisters(ss.stripThreadSuffix(args))
	case 'p':
		ss.readRegister(ss.stripThreadSuffix(args))
	case 'P':
		ss.writeRegister(ss.stripThreadSuffix(args))
	case 'm':
		ss.readMemory(args)
	case 'M':
		ss.writeMemory(args, false)
	case 'X':
		ss.writeMemory(args, true)
	case 'c', 's':
		return ss.parseResume(pkt[0] == 's', false, args)
	case 'C', 'S':
		return ss.parseResume(pkt[0] == 'S', true, args)
	case 'H':
		ss.setThread(args)
	case 'T':
		if _, ok := parseThreadID(args); ok && isOurThread(args) {
			ss.send([]byte("OK"))
		} else {
			ss.send([]byte(errGeneric))
		}
	case 'Z', 'z':
		ss.breakpoint(pkt[0] == 'Z', args)
	case 'k':
		// gdb sends k and does not wait for a reply (remote.c,
		// remote_kill_k): end the session at once. lldb waits for
		// one (ProcessGDBRemote::DoDestroy takes W or X as the exit
		// status, else reports "failed to send the k packet"), and
		// lldb-server answers X09: so do we, for lldb only (known by
		// QThreadSuffixSupported, which gdb never sends).
		ss.kill()
		if ss.threadSuffix {
			ss.send([]byte("X09"))
		}
		return control{kind: ctlEnd, outcome: OutcomeKilled}
	case 'D':
		return ss.detach()
	case 'q':
		return ss.query(pkt)
	case 'Q':
		ss.set(pkt)
	case 'v':
		return ss.vPacket(pkt)
	default:
		// Unknown packets get the empty reply (gdb manual: "an empty
		// response indicates the packet is not supported").
		ss.send(nil)
	}
	return control{}
}

func truncate(p []byte) []byte {
	if len(p) > 64 {
		return p[:64]
	}
	return p
}

// stripThreadSuffix removes lldb's ";thread:TID;" suffix (sent after
// QThreadSuffixSupported) from register packets.
func (ss *session) stripThreadSuffix(args []byte) []byte {
	if i := bytes.Index(args, []byte(";thread:")); i >= 0 {
		return args[:i]
	}
	return args
}

// parseHex reads a hex number that must fill b and fit 64 bits.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d, ok := hexVal(c)
		if !ok || v>>60 != 0 {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// parseInt reads a hex number no larger than max.
func parseInt(b []byte, max uint64) (int, bool) {
	v, ok := parseHex(b)
	if !ok || v > max {
		return 0, false
	}
	return int(v), true
}

// parseAddrLen reads "ADDR,LEN".
func parseAddrLen(b []byte) (addr, length uint64, ok bool) {
	a, l, found := bytes.Cut(b, []byte(","))
	if !found {
		return 0, 0, false
	}
	addr, ok1 := parseHex(a)
	length, ok2 := parseHex(l)
	return addr, length, ok1 && ok2
}

func appendHex(dst, data []byte) []byte {
	for _, c := range data {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

func decodeHex(b []byte) ([]byte, bool) {
	out := make([]byte, hex.DecodedLen(len(b)))
	if len(b)%2 != 0 {
		return nil, false
	}
	if _, err := hex.Decode(out, b); err != nil {
		return nil, false
	}
	return out, true
}

// parseThreadID accepts the thread-id forms of the manual: "TID", "-1",
// "0", and the multiprocess "pPID.TID", "pPID" (all threads of PID). It
// returns the thread part (-1 for all, 0 for any).
func parseThreadID(b []byte) (int64, bool) {
	parse := func(p []byte) (int64, bool) {
		if string(p) == "-1" {
			return -1, true
		}
		v, ok := parseHex(p)
		if !ok || v > 1<<62 {
			return 0, false
		}
		return int64(v), true
	}
	if len(b) > 0 && b[0] == 'p' {
		pidPart, tidPart, hasTid := bytes.Cut(b[1:], []byte("."))
		if _, ok := parse(pidPart); !ok {
			return 0, false
		}
		if !hasTid {
			return -1, true
		}
		return parse(tidPart)
	}
	return parse(b)
}

// isOurThread reports whether a thread id (any form) names thread 1.
func isOurThread(b []byte) bool {
	if len(b) > 0 && b[0] == 'p' {
		pidPart, _, _ := bytes.Cut(b[1:], []byte("."))
		if pid, ok := parseThreadID(pidPart); !ok || (pid != threadID && pid != -1 && pid != 0) {
			return false
		}
	}
	tid, ok := parseThreadID(b)
	return ok && tid == threadID
}

// appliesToUs reports whether a thread id selects thread 1: itself, all
// threads (-1) or any thread (0).
func appliesToUs(b []byte) bool {
	tid, ok := parseThreadID(b)
	if !ok {
		return false
	}
	if len(b) > 0 && b[0] == 'p' {
		pidPart, _, _ := bytes.Cut(b[1:], []byte("."))
		if pid, _ := parseThreadID(pidPart); pid != threadID && pid != -1 && pid != 0 {
			return false
		}
	}
	return tid == threadID || tid == -1 || tid == 0
}

// --- stop replies ---

// stopReply formats a stop event (gdb manual, "Stop Reply Packets").
func (ss *session) stopReply(st StopEvent) []byte {
	switch st.Reason {
	case StopExited:
		return fmt.Appendf(nil, "W%02x", st.ExitCode&0xff)
	case StopTerminated:
		return fmt.Appendf(nil, "X%02x", st.Signal&0xff)
	}
	sig := st.Signal
	if sig == 0 {
		sig = SIGTRAP
	}
	tid := st.Thread
	if tid <= 0 {
		tid = threadID
	}
	b := fmt.Appendf(nil, "T%02xthread:%02x;", sig&0xff, tid)
	switch st.Reason {
	case StopSWBreak:
		// Only for a debugger that asked (qSupported swbreak+): the
		// manual says older debuggers must not get it.
		if ss.swbreak {
			b = append(b, "swbreak:;"...)
		}
	case StopHWBreak:
		if ss.hwbreak {
			b = append(b, "hwbreak:;"...)
		}
	case StopWatch:
		b = fmt.Appendf(b, "watch:%x;", st.WatchAddr)
	case StopRWatch:
		b = fmt.Appendf(b, "rwatch:%x;", st.WatchAddr)
	case StopAWatch:
		b = fmt.Appendf(b, "awatch:%x;", st.WatchAddr)
	}
	if ex, ok := ss.t.(ExpeditedRegisters); ok {
		for _, n := range ex.ExpeditedRegisters() {
			v, err := ss.t.ReadRegister(n)
			if err != nil || n < 0 {
				continue
			}
			b = fmt.Appendf(b, "%02x:", n)
			b = appendHex(b, v)
			b = append(b, ';')
		}
	}
	if ss.listThreads {
		b = fmt.Appendf(b, "threads:%x;", threadID)
	}
	return b
}

// --- registers ---

func (ss *session) readRegisters() {
	regs, err := ss.t.ReadRegisters()
	if err != nil {
		ss.send([]byte(errGeneric))
		return
	}
	ss.send(appendHex(make([]byte, 0, 2*len(regs)), regs))
}

func (ss *session) writeRegisters(args []byte) {
	data, ok := decodeHex(args)
	if !ok {
		ss.send([]byte(errInvalid))
		return
	}
	if err := ss.t.WriteRegisters(data); err != nil {
		ss.send([]byte(errGeneric))
		return
	}
	ss.send([]byte("OK"))
}

func (ss *session) readRegister(args []byte) {
	n, ok := parseInt(args, 1<<20)
	if !ok {
		ss.send([]byte(errInvalid))
		return
	}
	v, err := ss.t.ReadRegister(n)
	if err != nil {
		ss.send([]byte(errRegister))
		return
	}
	ss.send(appendHex(nil, v))
}

func (ss *session) writeRegister(args []byte) {
	num, val, found := bytes.Cut(args, []byte("="))
	n, ok := parseInt(num, 1<<20)
	data, ok2 := decodeHex(val)
	if !found || !ok || !ok2 {
		ss.send([]byte(errInvalid))
		return
	}
	if err := ss.t.WriteRegister(n, data); err != nil {
		if errors.Is(err, ErrNoRegister) {
			ss.send([]byte(errRegister))
		} else {
			ss.send([]byte(errGeneric))
		}
		return
	}
	ss.send([]byte("OK"))
}

// --- memory ---

func (ss *session) readMemory(args []byte) {
	addr, length, ok := parseAddrLen(args)
	if !ok {
		ss.send([]byte(errInvalid))
		return
	}
	// Never answer more than fits a packet the debugger was told about;
	// a short answer is allowed and the debugger asks for the rest.
	if max := uint64(ss.srv.packetSize / 2); length > max {
		length = max
	}
	if length == 0 {
		ss.send(nil)
		return
	}
	buf := make([]byte, length)
	n, _ := ss.t.ReadMemory(addr, buf)
	if n <= 0 || n > len(buf) {
		ss.send([]byte(errFault))
		return
	}
	ss.send(appendHex(make([]byte, 0, 2*n), buf[:n]))
}

func (ss *session) writeMemory(args []byte, binary bool) {
	head, body, found := bytes.Cut(args, []byte(":"))
	addr, length, ok := parseAddrLen(head)
	if !found || !ok {
		ss.send([]byte(errInvalid))
		return
	}
	var data []byte
	if binary {
		data, ok = unescape(body)
	} else {
		data, ok = decodeHex(body)
	}
	if !ok || uint64(len(data)) != length {
		ss.send([]byte(errInvalid))
		return
	}
	if length == 0 {
		// gdb probes X support with a zero-length write.
		ss.send([]byte("OK"))
		return
	}
	n, _ := ss.t.WriteMemory(addr, data)
	if n != len(data) {
		ss.send([]byte(errFault))
		return
	}
	ss.send([]byte("OK"))
}

func unescape(b []byte) ([]byte, bool) {
	d, err := unescapeBinary(b)
	return d, err == nil
}

// --- execution ---

// parseResume handles c/s [ADDR] and C/S SIG[;ADDR].
func (ss *session) parseResume(step, withSig bool, args []byte) control {
	a := Action{Step: step}
	if withSig {
		sig, rest, _ := bytes.Cut(args, []byte(";"))
		n, ok := parseInt(sig, 0xff)
		if !ok {
			ss.send([]byte(errInvalid))
			return control{}
		}
		a.Signal = n
		args = rest
	}
	if len(args) > 0 {
		addr, ok := parseHex(args)
		if !ok {
			ss.send([]byte(errInvalid))
			return control{}
		}
		a.Addr = &addr
	}
	return control{kind: ctlResume, action: a}
}

// vCont handles "vCont;ACTION[:TID]..." for our one thread: the first
// action that applies to it wins (gdb manual, "vCont").
func (ss *session) vCont(args []byte) control {
	if len(args) == 0 || args[0] != ';' {
		ss.send([]byte(errInvalid))
		return control{}
	}
	for _, part := range bytes.Split(args[1:], []byte(";")) {
		act, tid, hasTid := bytes.Cut(part, []byte(":"))
		if len(act) == 0 {
			ss.send([]byte(errInvalid))
			return control{}
		}
		if hasTid {
			if _, ok := parseThreadID(tid); !ok {
				ss.send([]byte(errInvalid))
				return control{}
			}
			if !appliesToUs(tid) {
				continue
			}
		}
		a := Action{}
		switch act[0] {
		case 'c':
		case 's', 'r':
			// Range stepping ("r START,END") is not advertised; a
			// single step is a valid way to honour it (the manual
			// allows a stop anywhere).
			a.Step = true
		case 'C', 'S':
			n, ok := parseInt(act[1:], 0xff)
			if !ok {
				ss.send([]byte(errInvalid))
				return control{}
			}
			a.Step, a.Signal = act[0] == 'S', n
		default:
			// 't' (stop) makes no sense for a halted all-stop target.
			ss.send([]byte(errInvalid))
			return control{}
		}
		if (act[0] == 'c' || act[0] == 's') && len(act) > 1 {
			ss.send([]byte(errInvalid))
			return control{}
		}
		return control{kind: ctlResume, action: a}
	}
	ss.send([]byte(errInvalid))
	return control{}
}

func (ss *session) setThread(args []byte) {
	if len(args) < 1 {
		ss.send([]byte(errInvalid))
		return
	}
	if appliesToUs(args[1:]) {
		ss.send([]byte("OK"))
		return
	}
	ss.send([]byte(errInvalid))
}

func (ss *session) kill() {
	if k, ok := ss.t.(Killer); ok {
		if err := k.Kill(); err != nil {
			ss.srv.logf("gdbproto: kill: %v", err)
		}
	}
}

func (ss *session) detach() control {
	if d, ok := ss.t.(Detacher); ok {
		if err := d.Detach(); err != nil {
			ss.srv.logf("gdbproto: detach: %v", err)
		}
	}
	ss.send([]byte("OK"))
	return control{kind: ctlEnd, outcome: OutcomeDetached}
}

// --- breakpoints and watchpoints ---

// breakpoint handles "Ztype,addr,kind[;cond...]" and its z twin.
func (ss *session) breakpoint(insert bool, args []byte) {
	head, _, _ := bytes.Cut(args, []byte(";"))
	fields := bytes.Split(head, []byte(","))
	if len(fields) != 3 || len(fields[0]) != 1 {
		ss.send([]byte(errInvalid))
		return
	}
	addr, ok1 := parseHex(fields[1])
	kind, ok2 := parseInt(fields[2], 1<<30)
	if !ok1 || !ok2 {
		ss.send([]byte(errInvalid))
		return
	}
	var err error
	switch fields[0][0] {
	case '0':
		if insert {
			err = ss.t.SetBreakpoint(addr, kind)
		} else {
			err = ss.t.ClearBreakpoint(addr, kind)
		}
	case '1':
		hw, ok := ss.t.(HWBreakpoints)
		if !ok {
			ss.send(nil)
			return
		}
		if insert {
			err = hw.SetHWBreakpoint(addr, kind)
		} else {
			err = hw.ClearHWBreakpoint(addr, kind)
		}
	case '2', '3', '4':
		wp, ok := ss.t.(Watchpoints)
		if !ok {
			ss.send(nil)
			return
		}
		wk := WatchKind(fields[0][0] - '0')
		if insert {
			err = wp.SetWatchpoint(wk, addr, uint64(kind))
		} else {
			err = wp.ClearWatchpoint(wk, addr, uint64(kind))
		}
	default:
		ss.send(nil)
		return
	}
	switch {
	case err == nil:
		ss.send([]byte("OK"))
	case errors.Is(err, ErrUnsupported):
		ss.send(nil)
	default:
		ss.send([]byte(errGeneric))
	}
}
