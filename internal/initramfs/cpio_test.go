package initramfs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
)

// record is one member as readArchive found it, every header field kept.
type record struct {
	ino, mode, uid, gid, nlink, mtime uint32
	devmajor, devminor                uint32
	rmajor, rminor                    uint32
	name                              string
	data                              []byte
}

// readArchive is an independent newc reader: it parses every header
// field, checks the padding is zeros, and stops at the trailer, which it
// returns too. It reports how many bytes the archive took before the
// final block padding.
func readArchive(t *testing.T, b []byte) (recs []record, used int) {
	t.Helper()
	off := 0
	for {
		if len(b)-off < headerSize {
			t.Fatalf("offset %d: truncated header (%d bytes left)", off, len(b)-off)
		}
		h := b[off : off+headerSize]
		if string(h[:6]) != "070701" {
			t.Fatalf("offset %d: magic %q", off, h[:6])
		}
		var f [13]uint32
		for i := range f {
			s := string(h[6+8*i : 14+8*i])
			v, err := strconv.ParseUint(s, 16, 32)
			if err != nil {
				t.Fatalf("offset %d: field %d %q: %v", off, i, s, err)
			}
			f[i] = uint32(v)
		}
		if f[12] != 0 {
			t.Errorf("offset %d: check field %#x, want 0", off, f[12])
		}
		namesize, filesize := int(f[11]), int(f[6])
		nameEnd := off + headerSize + namesize
		if namesize == 0 || nameEnd > len(b) || b[nameEnd-1] != 0 {
			t.Fatalf("offset %d: bad name size %d", off, namesize)
		}
		r := record{
			ino: f[0], mode: f[1], uid: f[2], gid: f[3], nlink: f[4], mtime: f[5],
			devmajor: f[7], devminor: f[8], rmajor: f[9], rminor: f[10],
			name: string(b[off+headerSize : nameEnd-1]),
		}
		dataOff := align4(t, b, nameEnd)
		if dataOff+filesize > len(b) {
			t.Fatalf("%s: data runs past the end", r.name)
		}
		r.data = b[dataOff : dataOff+filesize]
		off = align4(t, b, dataOff+filesize)
		recs = append(recs, r)
		if r.name == "TRAILER!!!" {
			return recs, off
		}
	}
}

// align4 checks the padding after n is zeros and returns n rounded up.
func align4(t *testing.T, b []byte, n int) int {
	t.Helper()
	m := (n + 3) &^ 3
	if m > len(b) {
		t.Fatalf("offset %d: padding runs past the end", n)
	}
	for _, c := range b[n:m] {
		if c != 0 {
			t.Fatalf("offset %d: non-zero padding", n)
		}
	}
	return m
}

// sample is an archive with every entry type the workload uses.
var sample = []Entry{
	{Name: "bin", Type: TypeDir, Perm: 0o755},
	{Name: "/bin/busybox", Type: TypeRegular, Perm: 0o755, Data: []byte("\x7fELF not really")},
	{Name: "bin/sh", Type: TypeSymlink, Perm: 0o777, Linkname: "busybox"},
	{Name: "dev", Type: TypeDir, Perm: 0o755},
	{Name: "dev/console", Type: TypeCharDev, Perm: 0o600, Major: 5, Minor: 1},
	{Name: "dev/null", Type: TypeCharDev, Perm: 0o666, Major: 1, Minor: 3},
	{Name: "dev/sda", Type: TypeBlockDev, Perm: 0o660, Major: 8, Minor: 0, GID: 6},
	{Name: "init", Type: TypeRegular, Perm: 0o755, Data: []byte("#!/bin/busybox sh\necho hi\n")},
	{Name: "tmp", Type: TypeDir, Perm: 0o777 | fs.ModeSticky},
	{Name: "empty", Type: TypeRegular, Perm: 0o644},
	{Name: "abc", Type: TypeRegular, Perm: 0o600 | fs.ModeSetuid, UID: 1000, Mtime: 1700000000, Data: []byte("abc")},
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		entries []Entry
	}{
		{"empty", nil},
		{"one file", []Entry{{Name: "init", Type: TypeRegular, Perm: 0o755, Data: []byte("x")}}},
		// Names and data of every length mod 4, so every padding case occurs.
		{"paddings", func() []Entry {
			var es []Entry
			for i := 1; i <= 8; i++ {
				es = append(es, Entry{Name: strings.Repeat("n", i), Type: TypeRegular, Perm: 0o644, Data: bytes.Repeat([]byte{byte(i)}, i)})
			}
			return es
		}()},
		{"sample", sample},
	}
	for _, tc := range cases {
		for _, compress := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gzip=%v", tc.name, compress), func(t *testing.T) {
				b, err := Archive(tc.entries, compress)
				if err != nil {
					t.Fatal(err)
				}
				if compress {
					zr, err := gzip.NewReader(bytes.NewReader(b))
					if err != nil {
						t.Fatal(err)
					}
					if b, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				if len(b)%blockSize != 0 {
					t.Errorf("archive is %d bytes, not a multiple of %d", len(b), blockSize)
				}
				recs, used := readArchive(t, b)
				for _, c := range b[used:] {
					if c != 0 {
						t.Fatalf("non-zero byte after the trailer")
					}
				}
				if len(recs) != len(tc.entries)+1 {
					t.Fatalf("%d records, want %d", len(recs), len(tc.entries)+1)
				}
				inos := map[uint32]bool{}
				for i, e := range tc.entries {
					r := recs[i]
					want := record{
						ino: r.ino, mode: e.Mode(), uid: e.UID, gid: e.GID, nlink: 1, mtime: e.Mtime,
						rmajor: e.Major, rminor: e.Minor, name: strings.TrimPrefix(e.Name, "/"), data: e.Data,
					}
					if e.Type == TypeDir {
						want.nlink = 2
					}
					if e.Type == TypeSymlink {
						want.data = []byte(e.Linkname)
					}
					if want.data == nil {
						want.data = []byte{}
					}
					if !reflect.DeepEqual(r, want) {
						t.Errorf("record %d:\n got %+v\nwant %+v", i, r, want)
					}
					if r.ino == 0 || inos[r.ino] {
						t.Errorf("%s: inode %d zero or reused", r.name, r.ino)
					}
					inos[r.ino] = true
				}
				tr := recs[len(recs)-1]
				if !reflect.DeepEqual(tr, record{name: "TRAILER!!!", nlink: 1, data: []byte{}}) {
					t.Errorf("trailer %+v", tr)
				}
			})
		}
	}
}

func TestMode(t *testing.T) {
	cases := []struct {
		e    Entry
		want uint32
	}{
		{Entry{Type: TypeDir, Perm: 0o755}, 0o040755},
		{Entry{Type: TypeRegular, Perm: 0o755 | fs.ModeSetuid}, 0o104755},
		{Entry{Type: TypeRegular, Perm: 0o755 | fs.ModeSetgid}, 0o102755},
		{Entry{Type: TypeDir, Perm: 0o777 | fs.ModeSticky}, 0o041777},
		{Entry{Type: TypeSymlink, Perm: 0o777}, 0o120777},
		{Entry{Type: TypeCharDev, Perm: 0o600}, 0o020600},
		{Entry{Type: TypeBlockDev, Perm: 0o660}, 0o060660},
	}
	for _, tc := range cases {
		if got := tc.e.Mode(); got != tc.want {
			t.Errorf("%v %v: mode %#o, want %#o", tc.e.Type, tc.e.Perm, got, tc.want)
		}
	}
}

func TestWriterRejects(t *testing.T) {
	cases := []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"no parent", []Entry{{Name: "bin/sh", Type: TypeSymlink, Linkname: "busybox"}}, "parent directory bin"},
		{"parent is a file", []Entry{{Name: "bin", Type: TypeRegular}, {Name: "bin/x", Type: TypeRegular}}, "parent directory bin"},
		{"duplicate", []Entry{{Name: "a", Type: TypeRegular}, {Name: "/a", Type: TypeRegular}}, "already in the archive"},
		{"dotdot", []Entry{{Name: "../etc/passwd", Type: TypeRegular}}, "has a .. component"},
		{"empty name", []Entry{{Name: "/", Type: TypeDir}}, "invalid archive name"},
		{"symlink without target", []Entry{{Name: "l", Type: TypeSymlink}}, "without a target"},
		{"dir with data", []Entry{{Name: "d", Type: TypeDir, Data: []byte("x")}}, "with contents"},
		{"device with data", []Entry{{Name: "c", Type: TypeCharDev, Data: []byte("x")}}, "with contents"},
		{"unknown type", []Entry{{Name: "fifo", Type: 0o010000}}, "unsupported entry type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Archive(tc.entries, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	w := NewWriter(io.Discard)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.File("late", 0o644, nil); err == nil {
		t.Errorf("Add after Close succeeded")
	}
}

// TestGNUCpioListing checks the archive against GNU cpio's own reading of
// it: `cpio -itv` lists every member with its mode, links, owner, size or
// device numbers and link target.
func TestGNUCpioListing(t *testing.T) {
	cpio := testtool.Require(t, "cpio")
	b, err := Archive(sample, false)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cpio, "-itv", "--numeric-uid-gid", "--quiet")
	cmd.Stdin = bytes.NewReader(b)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itv: %v\n%s", err, out)
	}
	// GNU cpio prints ls -l style lines:
	//   -rwxr-xr-x   1 0        0              15 Jan  1  1970 bin/busybox
	//   crw-------   1 0        0          5,   1 Jan  1  1970 dev/console
	line := regexp.MustCompile(`^(\S{10})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+|\d+,\s+\d+)\s+\w{3}\s+\d+\s+\d+(?::\d+)?\s(.*)$`)
	var got []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unparsed cpio line %q\nall:\n%s", l, out)
		}
		size := strings.Join(strings.Fields(m[5]), "")
		got = append(got, strings.Join([]string{m[1], m[2], m[3], m[4], size, m[6]}, " "))
	}
	want := []string{
		"drwxr-xr-x 2 0 0 0 bin",
		"-rwxr-xr-x 1 0 0 15 bin/busybox",
		"lrwxrwxrwx 1 0 0 7 bin/sh -> busybox",
		"drwxr-xr-x 2 0 0 0 dev",
		"crw------- 1 0 0 5,1 dev/console",
		"crw-rw-rw- 1 0 0 1,3 dev/null",
		"brw-rw---- 1 0 6 8,0 dev/sda",
		"-rwxr-xr-x 1 0 0 26 init",
		"drwxrwxrwt 2 0 0 0 tmp",
		"-rw-r--r-- 1 0 0 0 empty",
		"-rwS------ 1 1000 0 3 abc",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cpio -itv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// And GNU cpio extracts the files and links with their contents.
	dir := t.TempDir()
	var files []Entry
	for _, e := range sample {
		if e.Type != TypeCharDev && e.Type != TypeBlockDev {
			files = append(files, e)
		}
	}
	if b, err = Archive(files, false); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(cpio, "-id", "--quiet", "--no-absolute-filenames")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -id: %v\n%s", err, out)
	}
	for _, e := range files {
		p := filepath.Join(dir, strings.TrimPrefix(e.Name, "/"))
		switch e.Type {
		case TypeRegular:
			data, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(data, e.Data) {
				t.Errorf("%s: extracted %q, %v; want %q", e.Name, data, err, e.Data)
			}
		case TypeSymlink:
			if target, err := os.Readlink(p); err != nil || target != e.Linkname {
				t.Errorf("%s: link %q, %v; want %q", e.Name, target, err, e.Linkname)
			}
		case TypeDir:
			if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
				t.Errorf("%s: not extracted as a directory: %v", e.Name, err)
			}
		}
	}
}
