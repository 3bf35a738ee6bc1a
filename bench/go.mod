module github.com/dpiblocks/dpi/bench

go 1.26.0

replace github.com/dpiblocks/dpi => ../

require (
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/dpiblocks/dpi v0.0.0-00010101000000-000000000000 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)
