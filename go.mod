module vmapstack

go 1.26.8

require (
	github.com/spf13/pflag v1.1.0
	golang.org/x/arch v0.32.0
	golang.org/x/term v0.48.0
)

require golang.org/x/sys v0.50.0
