// Command citizen-journey carries one person through a whole public service with the dpi
// blocks, against real protocol peers on loopback from package dpitest: the person signs in
// with a national eID, gives consent, one agency asks another for data, a document is signed,
// the person is notified, and an auditor checks the evidence.
//
// Each step is in its own file. A step that is not built yet says so and is never printed as
// done. The program exits 1 if a built step fails.
//
//	go run ./examples/citizen-journey
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// errNotBuilt marks a step whose block does not exist yet.
var errNotBuilt = errors.New("not built yet")

// journey is the state the steps hand to one another, and the servers they started.
type journey struct {
	ctx     context.Context
	out     io.Writer
	cleanup []func()

	idp    *dpitest.IdP       // the test national IdP (step_signin.go)
	person *identity.Identity // who signed in, verified (step_signin.go)
	notify *notifier          // agency A's outbox, its channels and evidence (step_notify.go)

	consent       *consent.Store         // agency B's consent store (step_consent.go)
	pseudonymizer *consent.Pseudonymizer // agency B's key for the person's reference in it (step_consent.go)
}

// step is one stage of the journey.
type step struct {
	title string
	issue string // the issue that builds it, named while it is not built
	run   func(*journey) error
}

func steps() []step {
	return []step{
		{"The person signs in with the national eID at substantial level", "#5", signIn},
		{"The person consents to an agency sharing their data, sees its use, and withdraws", "consent", giveConsent},
		{"One agency asks another for the person's data", "interop", exchangeData},
		{"The agency signs the certificate it issues; anyone validates it", "#6", signDocument},
		{"The person is notified", "notify", notifyPerson},
		{"An auditor checks the evidence", "#3", auditEvidence},
	}
}

func main() {
	os.Exit(runJourney(context.Background(), os.Stdout))
}

// runJourney runs every step in order and returns the exit code.
func runJourney(ctx context.Context, out io.Writer) int {
	j := &journey{ctx: ctx, out: out}
	defer func() {
		for i := len(j.cleanup) - 1; i >= 0; i-- {
			j.cleanup[i]()
		}
	}()
	all := steps()
	var done, notBuilt, failed int
	for i, s := range all {
		fmt.Fprintf(out, "\n[%d/%d] %s\n", i+1, len(all), s.title)
		err := s.run(j)
		switch {
		case errors.Is(err, errNotBuilt):
			notBuilt++
			fmt.Fprintf(out, "      NOT BUILT: this block does not exist yet (%s)\n", s.issue)
		case err != nil:
			failed++
			fmt.Fprintf(out, "      FAILED: %v\n", err)
		default:
			done++
			fmt.Fprintf(out, "      done\n")
		}
	}
	fmt.Fprintf(out, "\n%d steps done, %d not built yet, %d failed\n", done, notBuilt, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// logf prints one indented detail line of the current step.
func (j *journey) logf(format string, a ...any) {
	fmt.Fprintf(j.out, "      "+format+"\n", a...)
}
