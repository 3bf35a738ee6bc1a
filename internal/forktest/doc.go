// Package forktest keeps docs/forking.md true. Its tests read the guide, add every example
// file it gives (a national ID scheme, an identity provider profile, consent legal bases,
// a service's trust anchors) to the module through go build -overlay and go test -overlay,
// without writing into the repository, and check that the fictional country the guide adds
// is picked up by the registries, the dpi command line and the journey's steps, and that
// the package tests pass with it.
//
// The package has no code of its own; testdata/ holds the test the overlay adds to
// examples/citizen-journey, and xatrust/ is where it puts the guide's service package.
package forktest
