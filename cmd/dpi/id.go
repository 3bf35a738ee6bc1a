package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/dpiblocks/dpi/identity/nationalid"
)

func init() {
	register(command{
		name:    "id",
		summary: "validate and format national identity and tax numbers",
		subs: []command{
			{name: "validate", summary: "validate numbers of one scheme: --country CC --scheme NAME NUMBER...", run: runIDValidate},
			{name: "schemes", summary: "list the supported schemes", run: runIDSchemes},
		},
	})
}

// idVerdict is one element of the JSON array "dpi id validate --json" prints.
type idVerdict struct {
	Input     string `json:"input"`
	Country   string `json:"country"`
	Scheme    string `json:"scheme"`
	Valid     bool   `json:"valid"`
	Compact   string `json:"compact"`
	Formatted string `json:"formatted"`
	Error     string `json:"error"`
}

func runIDValidate(e *env, args []string) int {
	fs := e.newFlags("id validate", "dpi id validate --country CC --scheme NAME [--json] NUMBER...\n\n"+
		"Validates each NUMBER and prints its verdict, compact and formatted forms. Exit 0 all\n"+
		"valid; 1 any invalid; 2 usage error, or an unknown country or scheme (see: dpi id schemes).")
	country := fs.String("country", "", "ISO 3166-1 alpha-2 country code, such as BR (any case)")
	scheme := fs.String("scheme", "", "scheme name, such as cpf (see: dpi id schemes)")
	numbers, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *country == "" || *scheme == "" {
		return e.usageError("id validate: --country and --scheme are required")
	}
	if len(numbers) == 0 {
		return e.usageError("id validate: no number given")
	}
	s, err := nationalid.Lookup(*country, *scheme)
	if errors.Is(err, nationalid.ErrUnknownScheme) && !knownCountry(*country) {
		return e.usageError("id validate: unknown country %q (see: dpi id schemes)", *country)
	} else if errors.Is(err, nationalid.ErrUnknownScheme) {
		return e.usageError("id validate: unknown scheme %q for country %q (see: dpi id schemes)", *scheme, *country)
	} else if err != nil {
		return e.usageError("id validate: %v", err)
	}

	verdicts := make([]idVerdict, 0, len(numbers))
	result := exitOK
	for _, n := range numbers {
		// A number is short: the input is echoed only as far as maxEcho, so that a file
		// pasted by mistake is not printed back.
		v := idVerdict{Input: shorten(n), Country: s.Country, Scheme: s.Name, Compact: shorten(s.Compact(n))}
		if strings.TrimSpace(n) == "" {
			v.Error = "empty"
			result = exitRejected
		} else if f, err := s.Format(n); err != nil {
			v.Error = err.Error()
			result = exitRejected
		} else {
			v.Valid, v.Formatted = true, f
		}
		verdicts = append(verdicts, v)
	}
	if e.json {
		if err := e.printJSON(verdicts); err != nil {
			return exitUsage
		}
		return result
	}
	for _, v := range verdicts {
		if v.Valid {
			fmt.Fprintf(e.stdout, "valid    %s %s %s\n", v.Country, v.Scheme, v.Formatted)
		} else {
			fmt.Fprintf(e.stdout, "invalid  %s %s %q: %s\n", v.Country, v.Scheme, v.Input, oneLine(v.Error))
		}
	}
	return result
}

// idScheme is one element of the JSON array "dpi id schemes --json" prints.
type idScheme struct {
	Country       string   `json:"country"`
	Name          string   `json:"name"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	URL           string   `json:"url"`
	HasCheckDigit bool     `json:"hasCheckDigit"`
	Aliases       []string `json:"aliases,omitempty"`
}

func runIDSchemes(e *env, args []string) int {
	fs := e.newFlags("id schemes", "dpi id schemes [--json]")
	if rest, code, ok := e.parse(fs, args); !ok {
		return code
	} else if len(rest) > 0 {
		return e.usageError("id schemes takes no arguments")
	}
	var list []idScheme
	for _, s := range nationalid.Schemes() {
		list = append(list, idScheme{s.Country, s.Name, s.Title, s.Description, s.URL, s.HasCheckDigit, s.Aliases})
	}
	if e.json {
		if err := e.printJSON(list); err != nil {
			return exitUsage
		}
		return exitOK
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "COUNTRY\tSCHEME\tCHECK\tTITLE")
	for _, s := range list {
		check := "format"
		if s.HasCheckDigit {
			check = "digit"
		}
		name := s.Name
		if len(s.Aliases) > 0 {
			name += " (" + strings.Join(s.Aliases, ", ") + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Country, name, check, s.Title)
	}
	if err := w.Flush(); err != nil {
		return exitUsage
	}
	return exitOK
}

// knownCountry reports whether any scheme is registered for the country code, in any case.
func knownCountry(cc string) bool {
	for _, s := range nationalid.Schemes() {
		if strings.EqualFold(s.Country, cc) {
			return true
		}
	}
	return false
}
