// Command padesread reads a PDF with pdfcpu as package signature/pades configures it, and
// nothing else: its peak RSS is the PDF library's share of dpi verify's (the object table
// and, as pdfcpu reads every stream into memory, the streams). TestPAdES200MiB runs it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: padesread FILE.pdf")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	l := model.DefaultResourceLimits()
	l.MaxStreamBytes, l.MaxDecodeBytes = 512<<20, 512<<20
	conf := &model.Configuration{Reader15: true, ValidationMode: model.ValidationRelaxed, Eol: types.EolLF, Offline: true, Limits: l}
	ctx, err := pdfcpu.ReadWithContext(context.Background(), f, conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(len(ctx.XRefTable.Table), "objects")
}
