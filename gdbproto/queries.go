package gdbproto

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// hasName reports whether pkt is the packet name, alone or followed by one
// of the separators that start its arguments.
func hasName(pkt []byte, name string, seps string) ([]byte, bool) {
	if !bytes.HasPrefix(pkt, []byte(name)) {
		return nil, false
	}
	rest := pkt[len(name):]
	if len(rest) == 0 {
		return rest, true
	}
	if strings.IndexByte(seps, rest[0]) >= 0 {
		return rest, true
	}
	return nil, false
}

// query handles the q packets.
func (ss *session) query(pkt []byte) control {
	switch {
	case string(pkt) == "qC":
		ss.send(fmt.Appendf(nil, "QC%02x", threadID))
	case string(pkt) == "qfThreadInfo":
		ss.send(fmt.Appendf(nil, "m%02x", threadID))
	case string(pkt) == "qsThreadInfo":
		ss.send([]byte("l"))
	case string(pkt) == "qOffsets":
		// QEMU's system-mode stub has no section offsets and answers
		// empty; front ends take that answer as "QEMU, system mode".
		ss.send(nil)
	case string(pkt) == "qqemu.sstepbits":
		if _, ok := ss.t.(SingleStepFlags); ok {
			ss.send([]byte("ENABLE=1,NOIRQ=2,NOTIMER=4"))
		} else {
			ss.send(nil)
		}
	case string(pkt) == "qqemu.sstep":
		if sf, ok := ss.t.(SingleStepFlags); ok {
			ss.send(fmt.Appendf(nil, "0x%x", sf.SingleStepFlags()))
		} else {
			ss.send(nil)
		}
	case string(pkt) == "qHostInfo":
		ss.hostInfo(false)
	case string(pkt) == "qProcessInfo":
		ss.hostInfo(true)
	case string(pkt) == "qqemu.PhyMemMode":
		if pm, ok := ss.t.(PhysMemMode); ok {
			if pm.PhysMemMode() {
				ss.send([]byte("1"))
			} else {
				ss.send([]byte("0"))
			}
		} else {
			ss.send(nil)
		}
	default:
		if rest, ok := hasName(pkt, "qSupported", ":"); ok {
			ss.supported(rest)
		} else if _, ok := hasName(pkt, "qAttached", ":"); ok {
			// Attached to an existing "process": on detach or quit gdb
			// must not kill it.
			ss.send([]byte("1"))
		} else if _, ok := hasName(pkt, "qSymbol", ":"); ok {
			ss.send([]byte("OK"))
		} else if rest, ok := hasName(pkt, "qThreadExtraInfo", ","); ok {
			ss.threadExtraInfo(rest)
		} else if rest, ok := hasName(pkt, "qRcmd", ","); ok {
			ss.rcmd(rest)
		} else if rest, ok := hasName(pkt, "qXfer", ":"); ok {
			ss.xfer(rest)
		} else if rest, ok := bytes.CutPrefix(pkt, []byte("qMemoryRegionInfo:")); ok {
			ss.memoryRegion(rest)
		} else if rest, ok := hasName(pkt, "qCRC", ":"); ok {
			ss.crc(rest)
		} else if rest, ok := bytes.CutPrefix(pkt, []byte("qRegisterInfo")); ok {
			ss.registerInfo(rest)
		} else if rest, ok := bytes.CutPrefix(pkt, []byte("qThreadStopInfo")); ok {
			if isOurThread(rest) {
				ss.send(ss.stopReply(ss.srv.LastStop()))
			} else {
				ss.send([]byte(errInvalid))
			}
		} else if _, ok := hasName(pkt, "qWatchpointSupportInfo", ":"); ok {
			if ws, ok := ss.t.(WatchpointSlots); ok {
				ss.send(fmt.Appendf(nil, "num:%d;", ws.WatchpointSlots()))
			} else {
				ss.send(nil)
			}
		} else {
			// qTStatus, qTfV, qGetTLSAddr, jThreadsInfo... : not
			// supported, which the debugger handles.
			ss.send(nil)
		}
	}
	return control{}
}

// set handles the Q packets.
func (ss *session) set(pkt []byte) {
	switch {
	case string(pkt) == "QStartNoAckMode":
		// The OK still goes out (and is acknowledged) in ack mode.
		ss.send([]byte("OK"))
		ss.noAck = true
	case string(pkt) == "QThreadSuffixSupported":
		ss.threadSuffix = true
		ss.send([]byte("OK"))
	case string(pkt) == "QListThreadsInStopReply":
		ss.listThreads = true
		ss.send([]byte("OK"))
	default:
		if rest, ok := bytes.CutPrefix(pkt, []byte("Qqemu.sstep=")); ok {
			sf, ok := ss.t.(SingleStepFlags)
			if !ok {
				ss.send(nil)
				return
			}
			v, err := strconv.ParseUint(strings.TrimPrefix(string(rest), "0x"), 16, 32)
			if err != nil || v&^(StepEnable|StepNoIRQ|StepNoTimer) != 0 {
				ss.send([]byte(errInvalid))
				return
			}
			if err := sf.SetSingleStepFlags(uint32(v)); err != nil {
				ss.send([]byte(errGeneric))
				return
			}
			ss.send([]byte("OK"))
			return
		}
		if rest, ok := bytes.CutPrefix(pkt, []byte("Qqemu.PhyMemMode:")); ok {
			pm, ok := ss.t.(PhysMemMode)
			if !ok {
				ss.send(nil)
				return
			}
			if len(rest) != 1 || (rest[0] != '0' && rest[0] != '1') {
				ss.send([]byte(errInvalid))
				return
			}
			if err := pm.SetPhysMemMode(rest[0] == '1'); err != nil {
				ss.send([]byte(errGeneric))
				return
			}
			ss.send([]byte("OK"))
			return
		}
		ss.send(nil)
	}
}

// supported answers qSupported and notes the debugger's features.
func (ss *session) supported(rest []byte) {
	if len(rest) > 0 {
		for _, f := range bytes.Split(rest[1:], []byte(";")) {
			switch string(f) {
			case "swbreak+":
				ss.swbreak = true
			case "hwbreak+":
				ss.hwbreak = true
			}
		}
	}
	// multiprocess is not claimed: thread ids stay plain, though both
	// forms are parsed.
	// qXfer:threads:read lists the thread (with its extra info) in one
	// packet where qfThreadInfo/qsThreadInfo take two: gdb refreshes its
	// thread list after every stop, so each stepi saves a round trip.
	r := fmt.Appendf(nil, "PacketSize=%x;QStartNoAckMode+;swbreak+;vContSupported+;qXfer:threads:read+", ss.srv.packetSize)
	if _, ok := ss.t.(HWBreakpoints); ok {
		r = append(r, ";hwbreak+"...)
	}
	if _, ok := ss.t.(TargetDescription); ok {
		r = append(r, ";qXfer:features:read+"...)
	}
	if ef, ok := ss.t.(ExecFile); ok {
		if path, _ := ef.ExecFile(); path != "" {
			r = append(r, ";qXfer:exec-file:read+"...)
		}
	}
	ss.send(r)
}

func (ss *session) threadExtraInfo(rest []byte) {
	if !isOurThread(rest[min(1, len(rest)):]) {
		ss.send([]byte(errInvalid))
		return
	}
	ss.send(appendHex(nil, []byte(ss.threadExtraText())))
}

// threadExtraText is the one thread's extra info ("info threads").
func (ss *session) threadExtraText() string {
	if ti, ok := ss.t.(ThreadExtraInfo); ok {
		return ti.ThreadExtraInfo()
	}
	return "halted"
}

// threadsXML is the qXfer:threads:read object: the one thread, its extra
// info as the element's text (gdb shows it in "info threads" in place of
// asking qThreadExtraInfo).
func (ss *session) threadsXML() []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\"?>\n<threads>\n")
	fmt.Fprintf(&b, "<thread id=\"%02x\" core=\"0\">", threadID)
	xml.EscapeText(&b, []byte(ss.threadExtraText()))
	b.WriteString("</thread>\n</threads>\n")
	return b.Bytes()
}

// rcmd runs a monitor command: output as O packets, then OK (or E01 after
// printing the error: gdb then reports the command as failed).
func (ss *session) rcmd(rest []byte) {
	cmdBytes, ok := decodeHex(rest[min(1, len(rest)):])
	if !ok {
		ss.send([]byte(errInvalid))
		return
	}
	cmd := string(cmdBytes)
	mon, ok := ss.t.(Monitor)
	if !ok {
		if strings.TrimSpace(cmd) == "help" {
			ss.console("This target has no monitor commands.\n")
			ss.send([]byte("OK"))
			return
		}
		ss.send(nil)
		return
	}
	err := mon.Rcmd(cmd, consoleWriter{ss})
	switch {
	case err == nil:
		ss.send([]byte("OK"))
	case errors.Is(err, ErrUnsupported):
		ss.send(nil)
	default:
		msg := err.Error()
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		ss.console(msg)
		ss.send([]byte(errGeneric))
	}
}

// xfer handles "qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH".
func (ss *session) xfer(rest []byte) {
	parts := bytes.SplitN(rest[min(1, len(rest)):], []byte(":"), 3)
	if len(parts) != 3 || string(parts[1]) != "read" {
		ss.send(nil) // writes and unknown operations are not supported
		return
	}
	object := string(parts[0])
	i := bytes.LastIndexByte(parts[2], ':')
	if i < 0 {
		ss.send([]byte(errInvalid))
		return
	}
	annex := string(parts[2][:i])
	off, length, ok := parseAddrLen(parts[2][i+1:])
	if !ok {
		ss.send([]byte(errInvalid))
		return
	}
	var data []byte
	switch object {
	case "features":
		td, ok := ss.t.(TargetDescription)
		if !ok {
			ss.send(nil)
			return
		}
		data, ok = td.TargetXML(annex)
		if !ok {
			ss.send([]byte(errNoAnnex))
			return
		}
	case "threads":
		if annex != "" {
			ss.send([]byte(errNoAnnex))
			return
		}
		data = ss.threadsXML()
	case "exec-file":
		ef, ok := ss.t.(ExecFile)
		if !ok {
			ss.send(nil)
			return
		}
		path, _ := ef.ExecFile()
		data = []byte(path)
	default:
		ss.send(nil)
		return
	}
	ss.send(ss.xferChunk(data, off, length))
}

// xferChunk answers a qXfer read: 'm' and data when more follows, 'l' and
// data at the end, binary-escaped and cut to fit a packet.
func (ss *session) xferChunk(data []byte, off, length uint64) []byte {
	if off >= uint64(len(data)) {
		return []byte("l")
	}
	chunk := data[off:]
	if length < uint64(len(chunk)) {
		chunk = chunk[:length]
	}
	chunk = chunk[:prefixFitting(chunk, ss.srv.packetSize-1)]
	kind := byte('m')
	if off+uint64(len(chunk)) >= uint64(len(data)) {
		kind = 'l'
	}
	return escapeBinary([]byte{kind}, chunk)
}

// crc answers qCRC:ADDR,LENGTH with the CRC-32 gdb computes (libiberty's
// xcrc32: polynomial 0x04c11db7, most significant bit first, initial value
// 0xffffffff, no final inversion), used by "compare-sections".
func (ss *session) crc(rest []byte) {
	addr, length, ok := parseAddrLen(rest[min(1, len(rest)):])
	if !ok {
		ss.send([]byte(errInvalid))
		return
	}
	const maxCRC = 256 << 20 // keep a wild request from running for long
	if length > maxCRC {
		ss.send([]byte(errInvalid))
		return
	}
	crc := uint32(0xffffffff)
	buf := make([]byte, 64<<10)
	for length > 0 {
		n := min(uint64(len(buf)), length)
		got, _ := ss.t.ReadMemory(addr, buf[:n])
		if uint64(got) != n {
			ss.send([]byte(errFault))
			return
		}
		for _, b := range buf[:n] {
			crc = crc<<8 ^ crcTable[byte(crc>>24)^b]
		}
		addr += n
		length -= n
	}
	ss.send(fmt.Appendf(nil, "C%08x", crc))
}

// memoryRegion answers qMemoryRegionInfo:ADDR as lldb's gdb-remote
// documentation describes it: "start:HEX;size:HEX;permissions:rwx;".
func (ss *session) memoryRegion(rest []byte) {
	mr, ok := ss.t.(MemoryRegions)
	if !ok {
		ss.send(nil)
		return
	}
	addr, err := strconv.ParseUint(string(rest), 16, 64)
	if err != nil {
		ss.send([]byte(errInvalid))
		return
	}
	r, err := mr.MemoryRegion(addr)
	if errors.Is(err, ErrUnsupported) {
		ss.send(nil)
		return
	}
	if err != nil {
		ss.send([]byte(errFault))
		return
	}
	reply := fmt.Appendf(nil, "start:%x;size:%x;", r.Start, r.Size)
	if r.Mapped {
		reply = append(reply, "permissions:r"...)
		if r.Write {
			reply = append(reply, 'w')
		}
		if r.Exec {
			reply = append(reply, 'x')
		}
		reply = append(reply, ';')
	}
	ss.send(reply)
}

// crcTable holds xcrc32's remainder of each byte value, most significant
// bit first: one lookup per byte instead of eight shifts (qCRC over 256 MB
// took 18 s bit by bit).
var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for k := 0; k < 8; k++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// hostInfo answers lldb's qHostInfo and qProcessInfo. lldb reads "triple"
// hex-encoded (GDBRemoteCommunicationClient::GetHostInfo).
func (ss *session) hostInfo(process bool) {
	hp, ok := ss.t.(HostInfoProvider)
	if !ok {
		ss.send(nil)
		return
	}
	hi := hp.HostInfo()
	var b []byte
	if process {
		b = fmt.Appendf(b, "pid:%x;parent-pid:%x;real-uid:0;real-gid:0;effective-uid:0;effective-gid:0;", threadID, threadID)
	}
	if hi.Triple != "" {
		b = append(b, "triple:"...)
		b = appendHex(b, []byte(hi.Triple))
		b = append(b, ';')
	}
	if hi.PtrSize > 0 {
		b = fmt.Appendf(b, "ptrsize:%d;", hi.PtrSize)
	}
	if hi.Endian != "" {
		b = fmt.Appendf(b, "endian:%s;", hi.Endian)
	}
	if hi.OSType != "" {
		b = fmt.Appendf(b, "ostype:%s;", hi.OSType)
	}
	if hi.Vendor != "" {
		b = fmt.Appendf(b, "vendor:%s;", hi.Vendor)
	}
	ss.send(b)
}

// registerInfo answers lldb's qRegisterInfoN (N hex); E45 past the last.
func (ss *session) registerInfo(rest []byte) {
	rp, ok := ss.t.(RegisterInfoProvider)
	if !ok {
		ss.send(nil)
		return
	}
	n, ok := parseInt(rest, 1<<20)
	if !ok {
		ss.send([]byte(errInvalid))
		return
	}
	regs := rp.RegisterInfo()
	if n >= len(regs) {
		ss.send([]byte(errRegister))
		return
	}
	r := regs[n]
	b := fmt.Appendf(nil, "name:%s;", r.Name)
	if r.AltName != "" {
		b = fmt.Appendf(b, "alt-name:%s;", r.AltName)
	}
	b = fmt.Appendf(b, "bitsize:%d;offset:%d;", r.BitSize, r.Offset)
	if r.Encoding != "" {
		b = fmt.Appendf(b, "encoding:%s;", r.Encoding)
	}
	if r.Format != "" {
		b = fmt.Appendf(b, "format:%s;", r.Format)
	}
	if r.Set != "" {
		b = fmt.Appendf(b, "set:%s;", r.Set)
	}
	if r.EHFrame >= 0 {
		b = fmt.Appendf(b, "ehframe:%d;", r.EHFrame)
	}
	if r.DWARF >= 0 {
		b = fmt.Appendf(b, "dwarf:%d;", r.DWARF)
	}
	if r.Generic != "" {
		b = fmt.Appendf(b, "generic:%s;", r.Generic)
	}
	ss.send(b)
}

// --- v packets ---

func (ss *session) vPacket(pkt []byte) control {
	switch {
	case string(pkt) == "vCont?":
		ss.send([]byte("vCont;c;C;s;S"))
	case string(pkt) == "vCtrlC":
		ss.send([]byte("OK")) // already halted
	default:
		if rest, ok := hasName(pkt, "vCont", ";"); ok {
			return ss.vCont(rest)
		}
		if _, ok := hasName(pkt, "vKill", ";"); ok {
			ss.kill()
			ss.send([]byte("OK"))
			return control{kind: ctlEnd, outcome: OutcomeKilled}
		}
		if rest, ok := bytes.CutPrefix(pkt, []byte("vFile:")); ok {
			ss.vFile(rest)
			return control{}
		}
		ss.send(nil)
	}
	return control{}
}

// hostFile is a vFile descriptor.
type hostFile struct {
	data []byte
}

// gdb's File-I/O errno values (gdb manual, "Errno Values").
const (
	fioENOENT = 2
	fioEBADF  = 9
	fioEACCES = 13
	fioEINVAL = 22
	fioEMFILE = 24
)

const maxOpenFiles = 16

func fileErr(errno int) []byte { return fmt.Appendf(nil, "F-1,%x", errno) }

// vFile serves host I/O (gdb manual, "Host I/O Packets") read-only, for the
// file ExecFile offers.
func (ss *session) vFile(rest []byte) {
	op, args, _ := bytes.Cut(rest, []byte(":"))
	fields := bytes.Split(args, []byte(","))
	switch string(op) {
	case "setfs":
		ss.send([]byte("F0"))
	case "open":
		if len(fields) != 3 {
			ss.send(fileErr(fioEINVAL))
			return
		}
		path, ok1 := decodeHex(fields[0])
		flags, ok2 := parseHex(fields[1])
		if !ok1 || !ok2 {
			ss.send(fileErr(fioEINVAL))
			return
		}
		data, ok := ss.lookupFile(string(path))
		if !ok {
			ss.send(fileErr(fioENOENT))
			return
		}
		if flags&3 != 0 { // O_WRONLY or O_RDWR
			ss.send(fileErr(fioEACCES))
			return
		}
		if len(ss.files) >= maxOpenFiles {
			ss.send(fileErr(fioEMFILE))
			return
		}
		fd := ss.nextFD
		ss.nextFD++
		ss.files[fd] = &hostFile{data: data}
		ss.send(fmt.Appendf(nil, "F%x", fd))
	case "pread":
		if len(fields) != 3 {
			ss.send(fileErr(fioEINVAL))
			return
		}
		f, ok := ss.file(fields[0])
		count, ok1 := parseHex(fields[1])
		off, ok2 := parseHex(fields[2])
		if !ok {
			ss.send(fileErr(fioEBADF))
			return
		}
		if !ok1 || !ok2 {
			ss.send(fileErr(fioEINVAL))
			return
		}
		var chunk []byte
		if off < uint64(len(f.data)) {
			chunk = f.data[off:]
			if count < uint64(len(chunk)) {
				chunk = chunk[:count]
			}
		}
		// "F" + up to 16 hex digits + ";" then the escaped data.
		chunk = chunk[:prefixFitting(chunk, ss.srv.packetSize-20)]
		r := fmt.Appendf(nil, "F%x;", len(chunk))
		ss.send(escapeBinary(r, chunk))
	case "pwrite":
		ss.send(fileErr(fioEACCES))
	case "fstat":
		f, ok := ss.file(args)
		if !ok {
			ss.send(fileErr(fioEBADF))
			return
		}
		st := gdbStat(len(f.data))
		ss.send(escapeBinary(fmt.Appendf(nil, "F%x;", len(st)), st))
	case "close":
		fd, ok := parseInt(args, 1<<30)
		if _, open := ss.files[fd]; !ok || !open {
			ss.send(fileErr(fioEBADF))
			return
		}
		delete(ss.files, fd)
		ss.send([]byte("F0"))
	default:
		// unlink, readlink, stat...: not supported.
		ss.send(nil)
	}
}

func (ss *session) lookupFile(path string) ([]byte, bool) {
	ef, ok := ss.t.(ExecFile)
	if !ok {
		return nil, false
	}
	p, data := ef.ExecFile()
	if p == "" || p != path {
		return nil, false
	}
	return data, true
}

func (ss *session) file(fdText []byte) (*hostFile, bool) {
	fd, ok := parseInt(fdText, 1<<30)
	if !ok {
		return nil, false
	}
	f, ok := ss.files[fd]
	return f, ok
}

// gdbStat builds gdb's 64-byte struct stat (gdb manual, "struct stat"):
// big-endian fields, a read-only regular file of the given size.
func gdbStat(size int) []byte {
	b := make([]byte, 64)
	be := binary.BigEndian
	be.PutUint32(b[0:], 0)              // st_dev: a file
	be.PutUint32(b[4:], 1)              // st_ino
	be.PutUint32(b[8:], 0o100000|0o444) // st_mode: S_IFREG, r--r--r--
	be.PutUint32(b[12:], 1)             // st_nlink
	be.PutUint32(b[16:], 0)             // st_uid
	be.PutUint32(b[20:], 0)             // st_gid
	be.PutUint32(b[24:], 0)             // st_rdev
	be.PutUint64(b[28:], uint64(size))  // st_size
	be.PutUint64(b[36:], 4096)          // st_blksize
	be.PutUint64(b[44:], uint64((size+511)/512))
	// st_atime, st_mtime, st_ctime: 0.
	return b
}
