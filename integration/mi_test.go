package integration

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
)

// gdb/MI output syntax (gdb manual, "GDB/MI Output Syntax"):
//
//	output        ==> ( out-of-band-record )* [ result-record ] "(gdb)"
//	result-record ==> [ token ] "^" result-class ( "," result )*
//	async-record  ==> [ token ] ( "*" | "+" | "=" ) async-class ( "," result )*
//	stream-record ==> ( "~" | "@" | "&" ) c-string
//	result        ==> variable "=" value
//	value         ==> const | tuple | list
//	tuple         ==> "{}" | "{" result ( "," result )* "}"
//	list          ==> "[]" | "[" value ( "," value )* "]" | "[" result ( "," result )* "]"

// miResult is one variable=value pair.
type miResult struct {
	Name  string
	Value any // string, miTuple or miList
}

// miTuple is {a=..,b=..}; a list of results is also kept as a miTuple
// inside a miList element.
type miTuple []miResult

// miList is [v,v] or [a=v,a=v] (elements are then miResult).
type miList []any

// miRecord is one line of MI output.
type miRecord struct {
	Token   string
	Kind    byte // '^' result, '*' exec async, '+' status, '=' notify, '~' '@' '&' streams, '(' prompt
	Class   string
	Results miTuple
	Stream  string
}

// get walks tuples by field name ("frame", "func").
func (t miTuple) get(path ...string) (any, bool) {
	var v any = t
	for _, p := range path {
		tt, ok := v.(miTuple)
		if !ok {
			return nil, false
		}
		found := false
		for _, r := range tt {
			if r.Name == p {
				v, found = r.Value, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return v, true
}

// str returns a string field, "" when absent.
func (t miTuple) str(path ...string) string {
	v, _ := t.get(path...)
	s, _ := v.(string)
	return s
}

// parseMI parses one MI output line.
func parseMI(line string) (miRecord, error) {
	var r miRecord
	if strings.HasPrefix(line, "(gdb)") {
		r.Kind = '('
		return r, nil
	}
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	r.Token = line[:i]
	if i >= len(line) {
		return r, fmt.Errorf("MI line %q: no record type", line)
	}
	r.Kind = line[i]
	p := &miParser{s: line, i: i + 1}
	switch r.Kind {
	case '~', '@', '&':
		if r.Token != "" {
			return r, fmt.Errorf("MI line %q: token on a stream record", line)
		}
		s, err := p.cstring()
		if err != nil {
			return r, err
		}
		r.Stream = s
	case '^', '*', '+', '=':
		j := p.i
		for p.i < len(p.s) && p.s[p.i] != ',' {
			p.i++
		}
		r.Class = p.s[j:p.i]
		if r.Class == "" {
			return r, fmt.Errorf("MI line %q: empty class", line)
		}
		for p.i < len(p.s) {
			if p.s[p.i] != ',' {
				return r, fmt.Errorf("MI line %q: want ',' at %d", line, p.i)
			}
			p.i++
			res, err := p.result()
			if err != nil {
				return r, err
			}
			r.Results = append(r.Results, res)
		}
	default:
		return r, fmt.Errorf("MI line %q: unknown record type %q", line, r.Kind)
	}
	if p.i != len(p.s) {
		return r, fmt.Errorf("MI line %q: trailing text at %d", line, p.i)
	}
	return r, nil
}

type miParser struct {
	s string
	i int
}

func (p *miParser) errorf(format string, args ...any) error {
	return fmt.Errorf("MI %q at %d: %s", p.s, p.i, fmt.Sprintf(format, args...))
}

func (p *miParser) result() (miResult, error) {
	j := p.i
	for p.i < len(p.s) && p.s[p.i] != '=' {
		c := p.s[p.i]
		if c == ',' || c == '{' || c == '}' || c == '[' || c == ']' || c == '"' {
			return miResult{}, p.errorf("bad variable name")
		}
		p.i++
	}
	if p.i >= len(p.s) || p.i == j {
		return miResult{}, p.errorf("want variable=")
	}
	name := p.s[j:p.i]
	p.i++
	v, err := p.value()
	return miResult{Name: name, Value: v}, err
}

func (p *miParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.errorf("value missing")
	}
	switch p.s[p.i] {
	case '"':
		return p.cstring()
	case '{':
		p.i++
		var t miTuple
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return t, nil
		}
		for {
			r, err := p.result()
			if err != nil {
				return nil, err
			}
			t = append(t, r)
			if p.i >= len(p.s) {
				return nil, p.errorf("unterminated tuple")
			}
			if p.s[p.i] == '}' {
				p.i++
				return t, nil
			}
			if p.s[p.i] != ',' {
				return nil, p.errorf("want , or }")
			}
			p.i++
		}
	case '[':
		p.i++
		l := miList{}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return l, nil
		}
		for {
			if p.i >= len(p.s) {
				return nil, p.errorf("unterminated list")
			}
			var el any
			var err error
			if c := p.s[p.i]; c == '"' || c == '{' || c == '[' {
				el, err = p.value()
			} else {
				el, err = p.result()
			}
			if err != nil {
				return nil, err
			}
			l = append(l, el)
			if p.i >= len(p.s) {
				return nil, p.errorf("unterminated list")
			}
			if p.s[p.i] == ']' {
				p.i++
				return l, nil
			}
			if p.s[p.i] != ',' {
				return nil, p.errorf("want , or ]")
			}
			p.i++
		}
	}
	return nil, p.errorf("bad value start %q", p.s[p.i])
}

// cstring parses a C string with gdb's escapes (\n \t \" \\ \ooo).
func (p *miParser) cstring() (string, error) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", p.errorf("want '\"'")
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return b.String(), nil
		case '\\':
			p.i++
			if p.i >= len(p.s) {
				return "", p.errorf("dangling backslash")
			}
			e := p.s[p.i]
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'e':
				b.WriteByte(0x1b)
			case 'a':
				b.WriteByte(7)
			case 'b':
				b.WriteByte(8)
			case 'f':
				b.WriteByte(12)
			case 'v':
				b.WriteByte(11)
			case '0', '1', '2', '3', '4', '5', '6', '7':
				j := p.i
				for p.i < len(p.s) && p.i < j+3 && p.s[p.i] >= '0' && p.s[p.i] <= '7' {
					p.i++
				}
				v, _ := strconv.ParseUint(p.s[j:p.i], 8, 8)
				b.WriteByte(byte(v))
				continue
			default:
				b.WriteByte(e)
			}
			p.i++
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errorf("unterminated string")
}

func TestParseMI(t *testing.T) {
	tests := []struct {
		line string
		want miRecord
	}{
		{"(gdb) ", miRecord{Kind: '('}},
		{`^done`, miRecord{Kind: '^', Class: "done"}},
		{`12^error,msg="No symbol \"x\" in current context."`, miRecord{Token: "12", Kind: '^', Class: "error",
			Results: miTuple{{"msg", `No symbol "x" in current context.`}}}},
		{`~"a\tb\n\\\101"`, miRecord{Kind: '~', Stream: "a\tb\n\\A"}},
		{`*stopped,reason="breakpoint-hit",bkptno="1",frame={addr="0x1",func="f",args=[{name="x",value="1"}]},thread-id="1"`,
			miRecord{Kind: '*', Class: "stopped", Results: miTuple{
				{"reason", "breakpoint-hit"}, {"bkptno", "1"},
				{"frame", miTuple{{"addr", "0x1"}, {"func", "f"}, {"args", miList{miTuple{{"name", "x"}, {"value", "1"}}}}}},
				{"thread-id", "1"}}}},
		{`^done,stack=[frame={level="0"},frame={level="1"}]`, miRecord{Kind: '^', Class: "done", Results: miTuple{
			{"stack", miList{miResult{"frame", miTuple{{"level", "0"}}}, miResult{"frame", miTuple{{"level", "1"}}}}}}}},
		{`=thread-group-added,id="i1",empty={},l=[]`, miRecord{Kind: '=', Class: "thread-group-added", Results: miTuple{
			{"id", "i1"}, {"empty", miTuple(nil)}, {"l", miList{}}}}},
		{`^done,register-names=["rax","",""]`, miRecord{Kind: '^', Class: "done", Results: miTuple{
			{"register-names", miList{"rax", "", ""}}}}},
	}
	for _, tt := range tests {
		got, err := parseMI(tt.line)
		if err != nil {
			t.Errorf("parseMI(%q): %v", tt.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseMI(%q) =\n %#v\nwant\n %#v", tt.line, got, tt.want)
		}
	}
	for _, bad := range []string{`^`, `^done,`, `^done,x`, `^done,x="a`, `^done,x={a="1"`, `~abc`, `?x`, `^done,x=[1]`, `^done,x="a"junk`} {
		if _, err := parseMI(bad); err == nil {
			t.Errorf("parseMI(%q): no error", bad)
		}
	}
}

// miSession drives `gdb --interpreter=mi3` through pipes.
type miSession struct {
	t       *testing.T
	stdin   io.WriteCloser
	records chan miRecord
	errs    chan error
	token   int
	console strings.Builder // ~ and @ streams since the last command
	log     strings.Builder // the whole exchange, for failure messages
}

func newMI(t *testing.T, cmd *exec.Cmd) *miSession {
	t.Helper()
	s := &miSession{t: t, records: make(chan miRecord, 1024), errs: make(chan error, 1)}
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gdb mi: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		s.stdin.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	go func() {
		defer close(done)
		defer cmd.Wait()
		defer close(s.records)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			r, err := parseMI(sc.Text())
			if err != nil {
				select {
				case s.errs <- err:
				default:
				}
				continue
			}
			s.records <- r
		}
	}()
	return s
}

// next returns the next record, failing the test on a parse error, the
// end of gdb's output or the safety timeout.
func (s *miSession) next() miRecord {
	s.t.Helper()
	select {
	case err := <-s.errs:
		s.t.Fatalf("%v\nexchange so far:\n%s", err, s.log.String())
	case r, ok := <-s.records:
		if !ok {
			s.t.Fatalf("gdb's MI output ended\nexchange so far:\n%s", s.log.String())
		}
		switch r.Kind {
		case '~', '@':
			s.console.WriteString(r.Stream)
			s.log.WriteString(fmt.Sprintf("%c%q\n", r.Kind, r.Stream))
		case '(':
		default:
			s.log.WriteString(fmt.Sprintf("%s%c%s %v\n", r.Token, r.Kind, r.Class, r.Results))
		}
		return r
	case <-time.After(testTimeout):
		s.t.Fatalf("no MI output within %v\nexchange so far:\n%s", testTimeout, s.log.String())
	}
	return miRecord{}
}

// cmd sends an MI command and returns its result record; the stream
// output it produced is in s.console.
func (s *miSession) cmd(command string) miRecord {
	s.t.Helper()
	s.token++
	tok := strconv.Itoa(s.token)
	s.console.Reset()
	s.log.WriteString("-> " + tok + command + "\n")
	if _, err := io.WriteString(s.stdin, tok+command+"\n"); err != nil {
		s.t.Fatalf("write %q: %v", command, err)
	}
	for {
		r := s.next()
		if r.Kind == '^' && r.Token == tok {
			return r
		}
	}
}

// expect sends command and requires the result class want (done,
// connected, running, exit).
func (s *miSession) expect(command, want string) miRecord {
	s.t.Helper()
	r := s.cmd(command)
	if r.Class != want {
		s.t.Fatalf("%s: ^%s %v, want ^%s\nexchange:\n%s", command, r.Class, r.Results, want, s.log.String())
	}
	return r
}

// waitAsync waits for an async record of the class.
func (s *miSession) waitAsync(kind byte, class string) miRecord {
	s.t.Helper()
	for {
		r := s.next()
		if r.Kind == kind && r.Class == class {
			return r
		}
	}
}

func startGDBMI(t *testing.T) *miSession {
	t.Helper()
	ctx := testContext(t)
	cmd := exec.CommandContext(ctx, "gdb", "--interpreter=mi3", "-nx", "-q")
	cmd.WaitDelay = 5 * time.Second
	return newMI(t, cmd)
}

// TestGDBMIVSCodeLaunch replays what VS Code's cppdbg sends for a launch
// with miDebuggerServerAddress (its MIEngine: async mode, cwd, the
// program's symbols, -target-select remote, breakpoints with -f, continue),
// then what its UI asks on a stop: frames, registers, memory, a watch
// variable and its children, a monitor command through the console.
func TestGDBMIVSCodeLaunch(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	st := startStub(t, ctx, false, "--append", "scenario=overflow", "--serial", "none")
	mi := startGDBMI(t)

	mi.expect("-gdb-set target-async on", "done")
	mi.expect(`-interpreter-exec console "set pagination off"`, "done")
	mi.expect("-environment-cd "+t.TempDir(), "done")
	mi.expect("-file-exec-and-symbols "+kernelPath, "done")
	mi.expect("-target-select remote "+st.gdbAddr, "connected")
	bp := mi.expect("-break-insert -f do_double_fault", "done")
	if f := bp.Results.str("bkpt", "func"); f != "do_double_fault" {
		t.Errorf("-break-insert: bkpt func %q, want do_double_fault (%v)", f, bp.Results)
	}
	mi.expect("-exec-continue", "running")
	stop := mi.waitAsync('*', "stopped")
	if stop.Results.str("reason") != "breakpoint-hit" || stop.Results.str("frame", "func") != "do_double_fault" {
		t.Fatalf("*stopped %v, want reason=breakpoint-hit in do_double_fault\n%s", stop.Results, mi.log.String())
	}
	stopAddr, err := strconv.ParseUint(stop.Results.str("frame", "addr"), 0, 64)
	if err != nil {
		t.Fatalf("stop frame addr: %v", err)
	}

	frames := mi.expect("-stack-list-frames 0 2", "done")
	fl, _ := frames.Results.get("stack")
	stack, _ := fl.(miList)
	if len(stack) != 3 {
		t.Fatalf("-stack-list-frames 0 2: %d frames, want 3: %v", len(stack), frames.Results)
	}
	f0, _ := stack[0].(miResult)
	if ft, _ := f0.Value.(miTuple); f0.Name != "frame" || ft.str("func") != "do_double_fault" || ft.str("level") != "0" {
		t.Errorf("frame 0 = %v", f0)
	}

	names := mi.expect("-data-list-register-names", "done")
	nl, _ := names.Results.get("register-names")
	nameList, _ := nl.(miList)
	regNum := map[string]int{}
	for i, n := range nameList {
		if s, _ := n.(string); s != "" {
			regNum[s] = i
		}
	}
	for _, want := range []string{"rax", "rip", "eflags", "cs", "fs_base", "cr0", "cr2", "cr3", "cr4", "efer", "xmm0", "mxcsr"} {
		if _, ok := regNum[want]; !ok {
			t.Errorf("-data-list-register-names lacks %s: %v", want, nameList)
		}
	}
	vals := mi.expect("-data-list-register-values x", "done")
	vl, _ := vals.Results.get("register-values")
	valList, _ := vl.(miList)
	byNum := map[int]string{}
	for _, v := range valList {
		vt, _ := v.(miTuple)
		n, err := strconv.Atoi(vt.str("number"))
		if err != nil {
			t.Errorf("register value without a number: %v", v)
			continue
		}
		byNum[n] = vt.str("value")
	}
	for name, n := range regNum {
		if n < 66 && byNum[n] == "" {
			t.Errorf("register %s (%d) has no value", name, n)
		}
	}
	if rip, _ := strconv.ParseUint(byNum[regNum["rip"]], 0, 64); rip != stopAddr {
		t.Errorf("rip = %q, want the stop address %#x", byNum[regNum["rip"]], stopAddr)
	}
	if cr2, _ := strconv.ParseUint(byNum[regNum["cr2"]], 0, 64); !inGuardPage(cr2) {
		t.Errorf("cr2 = %q, not in a stack guard page", byNum[regNum["cr2"]])
	}

	mem := mi.expect("-data-read-memory-bytes $rsp 64", "done")
	ml, _ := mem.Results.get("memory")
	memList, _ := ml.(miList)
	if len(memList) != 1 {
		t.Fatalf("-data-read-memory-bytes: %v", mem.Results)
	}
	mt, _ := memList[0].(miTuple)
	contents := mt.str("contents")
	if len(contents) != 128 {
		t.Errorf("-data-read-memory-bytes $rsp 64: %d hex digits, want 128 (%v)", len(contents), mt)
	}
	rsp, _ := strconv.ParseUint(byNum[regNum["rsp"]], 0, 64)
	if begin, _ := strconv.ParseUint(mt.str("begin"), 0, 64); begin != rsp {
		t.Errorf("memory begin %s, want rsp %#x", mt.str("begin"), rsp)
	}

	v := mi.expect("-var-create - * current_task", "done")
	if !strings.Contains(v.Results.str("type"), "task_struct") || v.Results.str("numchild") == "0" {
		t.Errorf("-var-create current_task: %v", v.Results)
	}
	ch := mi.expect("-var-list-children --simple-values "+v.Results.str("name")+" 0 1000", "done")
	cl, _ := ch.Results.get("children")
	childList, _ := cl.(miList)
	exps := map[string]bool{}
	for _, c := range childList {
		cr, _ := c.(miResult)
		ct, _ := cr.Value.(miTuple)
		exps[ct.str("exp")] = true
	}
	for _, want := range []string{"stack", "thread", "comm"} {
		if !exps[want] {
			t.Errorf("current_task's children lack %q: %v", want, ch.Results)
		}
	}

	// F10 in the IDE: a source-line step inside do_double_fault.
	mi.expect("-exec-next", "running")
	next := mi.waitAsync('*', "stopped")
	if next.Results.str("reason") != "end-stepping-range" || next.Results.str("frame", "func") != "do_double_fault" {
		t.Errorf("-exec-next: *stopped %v, want end-stepping-range in do_double_fault", next.Results)
	}
	if a, _ := strconv.ParseUint(next.Results.str("frame", "addr"), 0, 64); a == stopAddr {
		t.Errorf("-exec-next did not move from %#x", stopAddr)
	}

	mi.cmd(`-interpreter-exec console "monitor help"`)
	checkMonitorHelp(t, mi.console.String())

	mi.expect("-target-detach", "done")
	mi.expect("-gdb-exit", "exit")
	// After detach the overflow kernel runs on to its panic: the stub
	// exits with the kernel's code 1.
	if code, err := st.wait(ctx); err != nil || code != 1 {
		t.Errorf("stub after detach: status %d, %v (stderr: %s)", code, err, st.stderr.String())
	}
}

// TestGDBMIInterrupt: -exec-continue, then -exec-interrupt while the
// endless scenario runs; MI must report *stopped with SIGINT.
func TestGDBMIInterrupt(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	st := startStub(t, ctx, false, "--append", "scenario=endless", "--serial", "none")
	mi := startGDBMI(t)
	mi.expect("-gdb-set mi-async on", "done")
	mi.expect("-file-exec-and-symbols "+kernelPath, "done")
	mi.expect("-target-select remote "+st.gdbAddr, "connected")
	// Run into the kernel first, so that wherever the interrupt lands is
	// a kernel address (an interrupt right after the resume may stop
	// before the first instruction).
	mi.expect("-break-insert -t start_kernel", "done")
	mi.expect("-exec-continue", "running")
	if r := mi.waitAsync('*', "stopped"); r.Results.str("frame", "func") != "start_kernel" {
		t.Fatalf("*stopped %v, want start_kernel", r.Results)
	}
	mi.expect("-exec-continue", "running")
	mi.waitAsync('*', "running")
	mi.expect("-exec-interrupt", "done")
	stop := mi.waitAsync('*', "stopped")
	if stop.Results.str("reason") != "signal-received" || stop.Results.str("signal-name") != "SIGINT" {
		t.Errorf("*stopped %v, want signal-received SIGINT\n%s", stop.Results, mi.log.String())
	}
	addr, _ := strconv.ParseUint(stop.Results.str("frame", "addr"), 0, 64)
	if addr < 0xffffffff80000000 {
		t.Errorf("interrupted at %#x, not in the kernel", addr)
	}
	mi.cmd("-interpreter-exec console kill")
	mi.expect("-gdb-exit", "exit")
	if code, err := st.wait(ctx); err != nil || code != 0 {
		t.Errorf("stub after kill: status %d, %v", code, err)
	}
}
