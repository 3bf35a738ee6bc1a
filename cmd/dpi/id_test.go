package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIDValidate(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"valid", []string{"id", "validate", "--country", "BR", "--scheme", "cpf", "39053344705"},
			exitOK, "valid    BR cpf 390.533.447-05", ""},
		{"country any case, flags after numbers", []string{"id", "validate", "12531909-2", "--country", "cl", "--scheme", "rut"},
			exitOK, "valid    CL rut 12.531.909-2", ""},
		{"one invalid among valid", []string{"id", "validate", "--country=BR", "--scheme=cpf", "390.533.447-05", "390.533.447-06"},
			exitRejected, `invalid  BR cpf "390.533.447-06": nationalid: BR cpf: check digit mismatch`, ""},
		{"unknown country", []string{"id", "validate", "--country", "XX", "--scheme", "cpf", "1"},
			exitUsage, "", "unknown country"},
		{"unknown scheme", []string{"id", "validate", "--country", "BR", "--scheme", "nope", "1"},
			exitUsage, "", "unknown scheme"},
		{"no number", []string{"id", "validate", "--country", "BR", "--scheme", "cpf"},
			exitUsage, "", "no number"},
		{"no scheme", []string{"id", "validate", "--country", "BR", "1"},
			exitUsage, "", "required"},
		{"no subcommand", []string{"id"}, exitUsage, "", "usage: dpi id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := dpiRun(t, "", tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, out, tc.out)
			assert.Contains(t, errOut, tc.err)
		})
	}
}

func TestIDValidateJSON(t *testing.T) {
	code, out, _ := dpiRun(t, "", "id", "validate", "--json", "--country", "br", "--scheme", "cnpj",
		"12.ABC.345/01DE-35", "16.727.230/0001-98")
	require.Equal(t, exitRejected, code)
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Len(t, got, 2)
	assert.Equal(t, map[string]any{
		"input": "12.ABC.345/01DE-35", "country": "BR", "scheme": "cnpj", "valid": true,
		"compact": "12ABC34501DE35", "formatted": "12.ABC.345/01DE-35", "error": "",
	}, got[0])
	assert.Equal(t, map[string]any{
		"input": "16.727.230/0001-98", "country": "BR", "scheme": "cnpj", "valid": false,
		"compact": "16727230000198", "formatted": "", "error": "nationalid: BR cnpj: check digit mismatch",
	}, got[1])

	code, out, _ = dpiRun(t, "", "--json", "id", "validate", "--country", "MX", "--scheme", "curp", "BOXW310820HNERXN09")
	require.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, true, got[0]["valid"])
}

func TestIDSchemes(t *testing.T) {
	code, out, _ := dpiRun(t, "", "id", "schemes")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "COUNTRY")
	assert.Regexp(t, `BR\s+cpf\s+digit\s+CPF`, out)
	assert.Regexp(t, `AR\s+dni\s+format\s+DNI`, out)

	code, out, _ = dpiRun(t, "", "id", "schemes", "--json")
	require.Equal(t, exitOK, code)
	var got []idScheme
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.GreaterOrEqual(t, len(got), 29)
	assert.Equal(t, "AR", got[0].Country)
	for _, s := range got {
		assert.NotEmpty(t, s.URL)
	}

	code, _, errOut := dpiRun(t, "", "id", "schemes", "extra")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "takes no arguments")
}
