package limits

// MaxNationalIDCompact caps the length, in bytes, of a national identification number once
// its separators are removed. No scheme in identity/nationalid is longer than 18
// characters; anything past this cap is rejected for its length without further work, and
// it bounds the stack buffer that lets validation run without allocating.
const MaxNationalIDCompact = 32
