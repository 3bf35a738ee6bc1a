// Command dpi is the command line of the dpi building blocks: sign and verify documents,
// verify national eID tokens, validate national ID numbers, manage consent, exchange
// envelopes, send notifications and check tamper-evident logs.
//
// Every subcommand prints a human report by default and JSON with --json, and exits with
// the same codes:
//
//	0  valid, or done
//	1  checked and rejected (invalid signature, rejected token, invalid number)
//	2  usage error or unreadable input
//	3  indeterminate (for example, revocation status unknown)
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program behind main, so tests drive it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	return dispatch(e, "dpi", args, commands())
}
