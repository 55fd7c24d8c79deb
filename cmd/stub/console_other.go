//go:build !linux

package main

// keepOutputProcessing: elsewhere the terminal keeps the mode MakeRaw left
// (the tests and CI run on Linux; macOS users see bare line feeds).
func keepOutputProcessing(fd int) error { return nil }
