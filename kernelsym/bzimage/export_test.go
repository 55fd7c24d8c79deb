package bzimage

// For the external tests (package bzimage_test), which import
// internal/linuxtest, itself an importer of this package.
var (
	FakeBzImage = fakeBzImage
	WithSize    = withSize
)
