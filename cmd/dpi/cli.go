package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Exit codes shared by every subcommand (DESIGN.md, "The command line contract").
const (
	exitOK            = 0 // valid, or done
	exitRejected      = 1 // checked and rejected
	exitUsage         = 2 // usage error or unreadable input
	exitIndeterminate = 3 // indeterminate, e.g. revocation status unknown
)

// command is one subcommand. A command either runs itself or, when subs is set, dispatches
// to the subcommand named by its first argument ("dpi id validate").
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) int
	subs    []command
}

// env carries what a subcommand needs from the process, so tests run commands in-process.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	json   bool // set by a global --json before the subcommand name
}

var (
	registryMu sync.Mutex
	registry   []command
)

// register adds a top-level subcommand. Each subcommand lives in its own file and calls
// register from an init function, so adding one touches no other file.
func register(c command) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = append(registry, c)
}

// commands returns the registered top-level subcommands sorted by name.
func commands() []command {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := append([]command(nil), registry...)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// dispatch runs the subcommand named by args[0] among subs.
func dispatch(e *env, prefix string, args []string, subs []command) int {
	for len(args) > 0 && (args[0] == "--json" || args[0] == "-json") {
		e.json = true
		args = args[1:]
	}
	if prefix == "dpi" && len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) > 1 && args[0] == "help" {
		return help(e, prefix, args[1:], subs)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stderr
		code := exitUsage
		if len(args) > 0 {
			w, code = e.stdout, exitOK
		}
		printUsage(w, prefix, subs)
		return code
	}
	for _, c := range subs {
		if c.name != args[0] {
			continue
		}
		if c.subs != nil {
			return dispatch(e, prefix+" "+c.name, args[1:], c.subs)
		}
		return c.run(e, args[1:])
	}
	fmt.Fprintf(e.stderr, "%s: unknown command %q\n\n", prefix, args[0])
	printUsage(e.stderr, prefix, subs)
	return exitUsage
}

// help prints the usage of the command that path names ("dpi help id validate") on
// standard output, as its --help does on standard error.
func help(e *env, prefix string, path []string, subs []command) int {
	for _, c := range subs {
		if c.name != path[0] {
			continue
		}
		if c.subs != nil {
			if len(path) == 1 {
				printUsage(e.stdout, prefix+" "+c.name, c.subs)
				return exitOK
			}
			return help(e, prefix+" "+c.name, path[1:], c.subs)
		}
		if len(path) > 1 {
			break
		}
		out := *e
		out.stderr = e.stdout
		return c.run(&out, []string{"--help"})
	}
	fmt.Fprintf(e.stderr, "%s: no command %q to help with\n\n", prefix, truncateInput(strings.Join(path, " ")))
	printUsage(e.stderr, prefix, subs)
	return exitUsage
}

func printUsage(w io.Writer, prefix string, subs []command) {
	fmt.Fprintf(w, "usage: %s <command> [flags] [args]\n\ncommands:\n", prefix)
	for _, c := range subs {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nexit codes: 0 valid or done, 1 rejected, 2 usage or unreadable input, 3 indeterminate\n")
}

// newFlags returns a flag set for a subcommand that already knows --json; its errors and
// help go to the command's stderr.
func (e *env) newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.BoolVar(&e.json, "json", e.json, "print JSON instead of a human report")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// errHelp reports that the user asked for help, which is not a failure.
var errHelp = flag.ErrHelp

// parseFlags parses flags that may stand before, between or after positional arguments
// ("dpi id validate 123 --json"), and returns the positional ones. A lone "--" ends flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parse wraps parseFlags with the exit-code contract: ok is false when the command must
// stop, with code as its exit code (0 after --help, 2 after a usage error).
func (e *env) parse(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	positional, err := parseFlags(fs, args)
	if errors.Is(err, errHelp) {
		return nil, exitOK, false
	}
	if err != nil {
		return nil, exitUsage, false
	}
	return positional, exitOK, true
}

// usageError prints a usage message for a subcommand and returns the usage exit code.
func (e *env) usageError(format string, a ...any) int {
	fmt.Fprintf(e.stderr, "dpi: "+format+"\n", a...)
	return exitUsage
}

// printJSON writes v as indented JSON to stdout.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// report prints what a command did once its output is written: with --json as JSON on
// standard output, else its one line on standard error.
func (e *env) report(rep interface{ print(io.Writer) }) int {
	if e.json {
		if err := e.printJSON(rep); err != nil {
			return exitUsage
		}
		return exitOK
	}
	rep.print(e.stderr)
	return exitOK
}

// readInput reads a file named on the command line, or stdin for "-", up to limit bytes.
// A larger input is an error rather than a silent truncation.
func (e *env) readInput(name string, limit int64) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", displayName(name), limit)
	}
	return b, nil
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// oneLine keeps an error message on one line for the human report.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// printable escapes control and bidirectional formatting characters, as \u00XX: names in
// the report come from certificates anyone can make, and a newline, an ANSI escape or a
// right-to-left override in a subject must not forge or hide a line of the report.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// maxEcho is how much of an input a message repeats: enough to recognise it, never a whole
// file pasted by mistake.
const maxEcho = 40

// truncateInput shortens an input that a message repeats to maxEcho runes, saying how long
// it was, and escapes it as printable does.
func truncateInput(s string) string { return printable(shorten(s)) }

// shorten cuts s to maxEcho runes, saying how long it was.
func shorten(s string) string {
	if r := []rune(s); len(r) > maxEcho {
		return string(r[:maxEcho]) + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}
