// Package bench measures dpi side by side with the libraries and tools a user would pick
// instead (go-oidc for ID tokens, raw digitorus/pkcs7 and openssl for CMS, python-stdnum for
// national numbers, a hash chain for the tamper-evident log). It is a module of its own so
// that those peers never enter the dpi library's dependencies.
//
// Run everything with:
//
//	cd bench && go test -run '^$' -bench . -benchmem
//
// BENCHMARKS.md at the repository root gives each figure with the command that reproduces it.
package bench
