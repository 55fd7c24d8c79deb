// Package initramfs writes the archives Linux unpacks into its rootfs at
// boot (Documentation/driver-api/early-userspace/buffer-format.rst): the
// "new ASCII" cpio format (magic 070701, "newc"), uncompressed or gzipped.
//
// It is our own small writer rather than a dependency: the format is a
// 110-byte text header, a name and the data, each padded to four bytes,
// and the well-known Go implementations either come inside a large tree
// (u-root) or add little over these hundred lines.
package initramfs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Type is the kind of an archive entry: the S_IFMT bits of its mode.
type Type uint32

// The entry types the kernel's unpacker creates (init/initramfs.c).
const (
	TypeDir      Type = 0o040000
	TypeRegular  Type = 0o100000
	TypeSymlink  Type = 0o120000
	TypeCharDev  Type = 0o020000
	TypeBlockDev Type = 0o060000
)

func (t Type) String() string {
	switch t {
	case TypeDir:
		return "directory"
	case TypeRegular:
		return "regular file"
	case TypeSymlink:
		return "symlink"
	case TypeCharDev:
		return "character device"
	case TypeBlockDev:
		return "block device"
	}
	return fmt.Sprintf("type %#o", uint32(t))
}

// Entry is one member of an archive.
type Entry struct {
	Name     string      // path inside the archive, relative ("bin/busybox"; a leading "/" is dropped)
	Type     Type        // what it is
	Perm     fs.FileMode // permission bits (and setuid/setgid/sticky as fs.FileMode flags)
	UID, GID uint32
	Mtime    uint32 // seconds since the epoch; 0 keeps archives reproducible
	Data     []byte // a regular file's contents
	Linkname string // a symlink's target
	Major    uint32 // a device node's major number
	Minor    uint32 // a device node's minor number
}

// Mode returns the entry's st_mode as the header stores it.
func (e *Entry) Mode() uint32 {
	m := uint32(e.Type) | uint32(e.Perm.Perm())
	if e.Perm&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if e.Perm&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if e.Perm&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

const (
	magic      = "070701"
	headerSize = 110
	trailer    = "TRAILER!!!"
	// blockSize is what GNU cpio pads an archive to; the kernel does not
	// need it, tools reading the archive from a tape-style stream do.
	blockSize = 512
)

// Writer writes a newc archive entry by entry. It checks what the kernel
// would otherwise get wrong silently: an entry whose parent directory is
// not in the archive (the kernel cannot create it and goes on without
// it), and the same name twice.
type Writer struct {
	w      io.Writer
	n      int64
	ino    uint32
	seen   map[string]Type
	closed bool
}

// NewWriter returns a Writer that writes an uncompressed archive to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, seen: map[string]Type{}}
}

// cleanName turns name into the relative, clean form the archive stores.
func cleanName(name string) (string, error) {
	n := path.Clean("/" + name)[1:]
	if n == "" || strings.Contains(name, "\x00") {
		return "", fmt.Errorf("invalid archive name %q", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("invalid archive name %q: it has a .. component", name)
		}
	}
	return n, nil
}

// Add writes e.
func (w *Writer) Add(e Entry) error {
	if w.closed {
		return errors.New("initramfs: write after Close")
	}
	name, err := cleanName(e.Name)
	if err != nil {
		return err
	}
	if _, dup := w.seen[name]; dup {
		return fmt.Errorf("initramfs: %s is already in the archive", name)
	}
	if dir := path.Dir(name); dir != "." && w.seen[dir] != TypeDir {
		return fmt.Errorf("initramfs: %s: parent directory %s is not in the archive before it", name, dir)
	}
	var data []byte
	nlink := uint32(1)
	var rmajor, rminor uint32
	switch e.Type {
	case TypeDir:
		nlink = 2
		if len(e.Data) > 0 || e.Linkname != "" {
			return fmt.Errorf("initramfs: directory %s with contents", name)
		}
	case TypeRegular:
		data = e.Data
		if e.Linkname != "" {
			return fmt.Errorf("initramfs: regular file %s with a link target", name)
		}
	case TypeSymlink:
		if e.Linkname == "" {
			return fmt.Errorf("initramfs: symlink %s without a target", name)
		}
		data = []byte(e.Linkname)
	case TypeCharDev, TypeBlockDev:
		rmajor, rminor = e.Major, e.Minor
		if len(e.Data) > 0 || e.Linkname != "" {
			return fmt.Errorf("initramfs: device node %s with contents", name)
		}
	default:
		return fmt.Errorf("initramfs: %s: unsupported entry type %#o", name, uint32(e.Type))
	}
	if uint64(len(data)) > 0xffffffff {
		return fmt.Errorf("initramfs: %s: %d bytes is more than newc can say", name, len(data))
	}
	w.ino++
	e.Name = name
	if err := w.record(w.ino, e.Mode(), e.UID, e.GID, nlink, e.Mtime, rmajor, rminor, name, data); err != nil {
		return fmt.Errorf("initramfs: write %s: %w", name, err)
	}
	w.seen[name] = e.Type
	return nil
}

// record writes one header, name and data with their padding.
func (w *Writer) record(ino, mode, uid, gid, nlink, mtime, rmajor, rminor uint32, name string, data []byte) error {
	var b bytes.Buffer
	b.Grow(headerSize + len(name) + 8)
	b.WriteString(magic)
	for _, v := range []uint32{
		ino, mode, uid, gid, nlink, mtime, uint32(len(data)),
		0, 0, // devmajor, devminor: the device holding the file, unused
		rmajor, rminor,
		uint32(len(name) + 1), // namesize counts the NUL
		0,                     // check: only for the "070702" CRC format
	} {
		fmt.Fprintf(&b, "%08x", v)
	}
	b.WriteString(name)
	b.WriteByte(0)
	b.Write(pad(b.Len()))
	if err := w.write(b.Bytes()); err != nil {
		return err
	}
	if err := w.write(data); err != nil {
		return err
	}
	return w.write(pad(len(data)))
}

func (w *Writer) write(p []byte) error {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return err
}

// pad returns the zero bytes that bring n up to a multiple of four.
func pad(n int) []byte { return make([]byte, (4-n%4)%4) }

// Dir adds a directory.
func (w *Writer) Dir(name string, perm fs.FileMode) error {
	return w.Add(Entry{Name: name, Type: TypeDir, Perm: perm})
}

// File adds a regular file.
func (w *Writer) File(name string, perm fs.FileMode, data []byte) error {
	return w.Add(Entry{Name: name, Type: TypeRegular, Perm: perm, Data: data})
}

// Symlink adds a symbolic link name pointing at target.
func (w *Writer) Symlink(name, target string) error {
	return w.Add(Entry{Name: name, Type: TypeSymlink, Perm: 0o777, Linkname: target})
}

// CharDev adds a character device node.
func (w *Writer) CharDev(name string, perm fs.FileMode, major, minor uint32) error {
	return w.Add(Entry{Name: name, Type: TypeCharDev, Perm: perm, Major: major, Minor: minor})
}

// Close writes the TRAILER!!! record and pads the archive to 512 bytes
// as GNU cpio does. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.record(0, 0, 0, 0, 1, 0, 0, 0, trailer, nil); err != nil {
		return fmt.Errorf("initramfs: write trailer: %w", err)
	}
	if r := w.n % blockSize; r != 0 {
		if err := w.write(make([]byte, blockSize-r)); err != nil {
			return fmt.Errorf("initramfs: pad archive: %w", err)
		}
	}
	return nil
}

// Archive returns entries as one archive, gzipped when compress is set
// (the kernel's CONFIG_RD_GZIP, on in every distribution kernel).
func Archive(entries []Entry, compress bool) ([]byte, error) {
	var buf bytes.Buffer
	var out io.Writer = &buf
	var zw *gzip.Writer
	if compress {
		var err error
		if zw, err = gzip.NewWriterLevel(&buf, gzip.BestCompression); err != nil {
			return nil, fmt.Errorf("initramfs: gzip: %w", err)
		}
		out = zw
	}
	w := NewWriter(out)
	for _, e := range entries {
		if err := w.Add(e); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("initramfs: gzip: %w", err)
		}
	}
	return buf.Bytes(), nil
}
