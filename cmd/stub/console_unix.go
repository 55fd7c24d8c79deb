//go:build linux

package main

import "golang.org/x/sys/unix"

// keepOutputProcessing sets OPOST on the terminal (termios(3)): "\n" is
// written as "\r\n".
func keepOutputProcessing(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Oflag |= unix.OPOST | unix.ONLCR
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
