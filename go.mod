module vmapstack

go 1.26.8

require (
	github.com/spf13/pflag v1.1.0 // indirect
	golang.org/x/arch v0.32.0 // indirect
)
