package job

// Defaults of the limits that bound the work on one message
// (Limits.MaxParts and the fields after it).
const (
	DefaultMaxParts       = 1000
	DefaultMaxDepth       = 50
	DefaultMaxAttachments = 100
	DefaultMaxHeaderSize  = 512 << 10
	DefaultMaxDecodedSize = 100 << 20
)

// Upper bounds of the message limits: past them one message could again
// stall a stage or exhaust its memory.
const (
	maxMaxParts       = 100000
	maxMaxDepth       = 100
	maxMaxAttachments = 10000
	maxMaxHeaderSize  = 16 << 20
	maxMaxDecodedSize = 1 << 30
)

// applyMessageDefaults fills the unset message limits.
func (l *Limits) applyMessageDefaults() {
	orDefault(&l.MaxParts, DefaultMaxParts)
	orDefault(&l.MaxDepth, DefaultMaxDepth)
	orDefault(&l.MaxAttachments, DefaultMaxAttachments)
	orDefault(&l.MaxHeaderSize, DefaultMaxHeaderSize)
	orDefault(&l.MaxDecodedSize, DefaultMaxDecodedSize)
}
