// Command padesread reads a PDF's object table as package signature/pades does (with
// internal/pdfread, pdfcpu's reader forked to leave stream contents in the file), and nothing
// else: its peak RSS is the PDF library's share of dpi verify's. With -pdfcpu it reads the
// PDF with pdfcpu v0.15.0 itself, which loads every stream's content. TestPAdES200MiB runs it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/dpiblocks/dpi/internal/pdfread"
)

func main() {
	args := os.Args[1:]
	read := pdfread.ReadWithContext
	if len(args) == 2 && args[0] == "-pdfcpu" {
		read, args = pdfcpu.ReadWithContext, args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: padesread [-pdfcpu] FILE.pdf")
		os.Exit(2)
	}
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	l := model.DefaultResourceLimits()
	l.MaxStreamBytes, l.MaxDecodeBytes = 512<<20, 512<<20
	conf := &model.Configuration{Reader15: true, ValidationMode: model.ValidationRelaxed, Eol: types.EolLF, Offline: true, Limits: l}
	ctx, err := read(context.Background(), f, conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(len(ctx.XRefTable.Table), "objects")
}
