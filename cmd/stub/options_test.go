package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr string
	}{
		{in: "128M", want: 128 << 20},
		{in: "128m", want: 128 << 20},
		{in: "128MiB", want: 128 << 20},
		{in: "128MB", want: 128 << 20},
		{in: "1G", want: 1 << 30},
		{in: "2g", want: 2 << 30},
		{in: "4096K", want: 4 << 20},
		{in: "64", want: 64 << 20}, // bare number: MiB, as QEMU's -m
		{in: " 256M ", want: 256 << 20},
		{in: "", wantErr: "empty size"},
		{in: "M", wantErr: "bad size"},
		{in: "12X", wantErr: "bad size"},
		{in: "-1M", wantErr: "bad size"},
		{in: "1.5G", wantErr: "bad size"},
		{in: "99999999999999999T", wantErr: "overflows"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseSize(%q) = %d, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		o, err := parseArgs(nil, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Kernel != "" || o.Append != "scenario=overflow" || o.Listen != "127.0.0.1:1234" || !o.Wait ||
			o.Serial != "stdio" || o.Memory != 128<<20 || o.TraceInt != "" || !o.Native || o.BusyPoll != 0 {
			t.Errorf("defaults: %+v", o)
		}
		if o.BreakOn.String() != "triple" {
			t.Errorf("default break-on = %s", o.BreakOn)
		}
	})
	t.Run("all flags", func(t *testing.T) {
		o, err := parseArgs([]string{"--kernel", "/tmp/k.elf", "--append=scenario=tasks noist", "--listen", "none",
			"--wait=false", "--break-on", "df,pf,0x20", "--serial", "none", "--memory", "1G", "--trace-int", "int.log", "--native=false", "--busy-poll", "300us"}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Kernel != "/tmp/k.elf" || o.Append != "scenario=tasks noist" || o.Listen != "none" || o.Wait ||
			o.Serial != "none" || o.Memory != 1<<30 || o.TraceInt != "int.log" || o.Native || o.BusyPoll != 300*time.Microsecond {
			t.Errorf("got %+v", o)
		}
		if !o.BreakOn.Vectors[8] || !o.BreakOn.Vectors[14] || !o.BreakOn.Vectors[0x20] || o.BreakOn.String() != "df,pf,32,triple" {
			t.Errorf("break-on = %s", o.BreakOn)
		}
	})
	errTests := []struct {
		args []string
		want string
	}{
		{[]string{"--break-on", "df,bogus"}, `--break-on: unknown exception "bogus"`},
		{[]string{"--memory", "lots"}, "--memory: bad size"},
		{[]string{"--memory", "1M"}, "out of range"},
		{[]string{"--memory", "8G"}, "out of range"},
		{[]string{"--memory", "4097K"}, "not a multiple of 4 KiB"},
		{[]string{"--listen="}, "--listen: empty address"},
		{[]string{"--serial="}, "--serial: empty"},
		{[]string{"--busy-poll", "-1us"}, "--busy-poll: -1µs is out of range"},
		{[]string{"--busy-poll", "1s"}, "--busy-poll: 1s is out of range"},
		{[]string{"--busy-poll", "300"}, "--busy-poll"},
		{[]string{"--nosuchflag"}, "unknown flag: --nosuchflag"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range errTests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseArgs(tc.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		var out bytes.Buffer
		_, err := parseArgs([]string{"--help"}, &out)
		if !errors.Is(err, errHelp) {
			t.Fatalf("err = %v", err)
		}
		for _, flag := range []string{"--kernel", "--append", "--listen", "--wait", "--break-on", "--serial", "--memory", "--trace-int", "--native", "--busy-poll", "isa-debug-exit"} {
			if !strings.Contains(out.String(), flag) {
				t.Errorf("help lacks %s:\n%s", flag, out.String())
			}
		}
	})
}
