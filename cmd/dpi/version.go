package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(command{name: "version", summary: "print the dpi version", run: runVersion})
}

// versionInfo is the JSON form of "dpi version --json".
type versionInfo struct {
	Module    string `json:"module"`
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
}

func runVersion(e *env, args []string) int {
	fs := e.newFlags("version", "dpi version [--json]")
	if rest, code, ok := e.parse(fs, args); !ok {
		return code
	} else if len(rest) > 0 {
		return e.usageError("version takes no arguments")
	}
	v := versionInfo{Module: "github.com/dpiblocks/dpi", Version: "(devel)", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if e.json {
		if err := e.printJSON(v); err != nil {
			return exitUsage
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "dpi %s (%s)\n", v.Version, v.GoVersion)
	return exitOK
}
