module vmapstack

go 1.26.8

require (
	github.com/klauspost/compress v1.20.5
	github.com/pierrec/lz4/v4 v4.1.33
	github.com/spf13/pflag v1.1.0
	github.com/ulikunitz/xz v0.5.17
	golang.org/x/arch v0.32.0
	golang.org/x/term v0.48.0
)

require (
	github.com/cilium/ebpf v0.22.0
	golang.org/x/sys v0.50.0
)
