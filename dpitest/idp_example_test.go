package dpitest_test

import (
	"fmt"
	"strings"

	"github.com/dpiblocks/dpi/dpitest"
)

// Start a test national IdP for a service's own tests and mint an ID token.
func ExampleStartIdP() {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{Algorithm: "RS256", ACR: "substantial"})
	if err != nil {
		panic(err)
	}
	defer idp.Close()
	tok, err := idp.MintIDToken(map[string]any{"nonce": "n"})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(idp.Issuer(), "http://127.0.0.1:"), strings.Count(tok, "."))
	// Output: true 2
}
