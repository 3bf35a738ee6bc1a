package bench

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPAdES200MiB signs a 200 MiB PDF (200 pages, each a 1 MiB uncompressed image, as a
// scanned file is) at PAdES-BASELINE-T with the dpi command (the TSA on loopback), validates
// it with dpi verify, and puts beside them `openssl dgst -sha256` over the same file, poppler's
// `pdfsig` validating it, and padesread, which only reads the PDF's object table as dpi does
// (the PDF library's share of the memory) and, with -pdfcpu, with pdfcpu itself. Best wall time and peak RSS of three runs each. It writes
// 400 MiB to the temporary directory, so it runs only when DPI_BENCH_PADES=1:
//
//	cd bench && DPI_BENCH_PADES=1 go test -run TestPAdES200MiB -v -timeout 30m
func TestPAdES200MiB(t *testing.T) {
	if os.Getenv("DPI_BENCH_PADES") != "1" {
		t.Skip("set DPI_BENCH_PADES=1 to sign and validate a 200 MiB PDF")
	}
	openssl, err := exec.LookPath("openssl")
	require.NoError(t, err, "openssl is needed for the comparison")
	pdfsig, err := exec.LookPath("pdfsig")
	require.NoError(t, err, "pdfsig (poppler-utils) is needed for the comparison")
	f := newSignatureFixture(t)

	dpi := filepath.Join(f.dir, "dpi")
	reader := filepath.Join(f.dir, "padesread")
	for _, b := range []struct{ bin, pkg, dir string }{{dpi, "./cmd/dpi", ".."}, {reader, "./padesread", "."}} {
		build := exec.Command("go", "build", "-o", b.bin, b.pkg)
		build.Dir = b.dir
		out, err := build.CombinedOutput()
		require.NoError(t, err, string(out))
	}

	in := filepath.Join(f.dir, "in.pdf")
	writeBigPDF(t, in, 200)
	signed := filepath.Join(f.dir, "signed.pdf")

	sign, signRSS := bestOfThreeInto(t, signed, dpi, "sign", "--format", "pades", "--level", "B-T", "--tsa", f.pki.TSAURL,
		"--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", signed, in)
	st, err := os.Stat(signed)
	require.NoError(t, err)
	dgst, dgstRSS := bestOfThree(t, openssl, "dgst", "-sha256", signed)
	read, readRSS := bestOfThree(t, reader, signed)
	readAll, readAllRSS := bestOfThree(t, reader, "-pdfcpu", signed)
	verify, verifyRSS := bestOfThree(t, dpi, "verify", "--trust", f.roots, signed)
	poppler, popplerRSS := bestOfThree(t, pdfsig, "-nocert", "-no-ocsp", signed)
	// B-LT: a DSS in an update after the signature, so that validation also compares the
	// signed revision with the whole file (analyzeChanges reads both); validated offline.
	signedLT := filepath.Join(f.dir, "signed-lt.pdf")
	signLT, signLTRSS := bestOfThreeInto(t, signedLT, dpi, "sign", "--format", "pades", "--level", "B-LT", "--tsa", f.pki.TSAURL,
		"--trust", f.roots, "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", signedLT, in)
	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)
	verifyLT, verifyLTRSS := bestOfThree(t, dpi, "verify", "--trust", f.roots, signedLT)
	t.Logf("signed PDF: %.1f MiB", float64(st.Size())/(1<<20))
	for _, r := range []struct {
		name string
		d    time.Duration
		rss  int64
	}{
		{"openssl dgst -sha256", dgst, dgstRSS},
		{"dpi sign (PAdES B-T)", sign, signRSS},
		{"dpi verify", verify, verifyRSS},
		{"dpi sign (PAdES B-LT)", signLT, signLTRSS},
		{"dpi verify B-LT", verifyLT, verifyLTRSS},
		{"object table (pdfread)", read, readRSS},
		{"pdfcpu read (streams)", readAll, readAllRSS},
		{"pdfsig -nocert", poppler, popplerRSS},
	} {
		t.Logf("%-22s wall %6.2fs  peak RSS %6.1f MiB", r.name, r.d.Seconds(), float64(r.rss)/1024)
	}
	t.Logf("dpi sign / openssl dgst = %.2f; dpi verify / openssl dgst = %.2f; pdfsig / openssl dgst = %.2f",
		sign.Seconds()/dgst.Seconds(), verify.Seconds()/dgst.Seconds(), poppler.Seconds()/dgst.Seconds())
	t.Logf("dpi verify B-LT / openssl dgst = %.2f", verifyLT.Seconds()/dgst.Seconds())
	t.Logf("peak RSS beyond the object table's read: dpi verify %.1f MiB, dpi verify B-LT %.1f MiB",
		float64(verifyRSS-readRSS)/1024, float64(verifyLTRSS-readRSS)/1024)
}

// writeBigPDF writes a PDF of pages pages, each showing a 1 MiB uncompressed RGB image of
// random pixels, with a classic cross-reference table.
func writeBigPDF(t *testing.T, path string, pages int) {
	t.Helper()
	out, err := os.Create(path)
	require.NoError(t, err)
	defer out.Close()
	w := bufio.NewWriterSize(out, 1<<20)
	const width, height = 512, 683 // 512*683*3 = 1,049,088 bytes
	img := make([]byte, width*height*3)
	_, err = rand.Read(img)
	require.NoError(t, err)
	var offs []int64
	pos := int64(0)
	write := func(format string, args ...any) {
		n, err := fmt.Fprintf(w, format, args...)
		require.NoError(t, err)
		pos += int64(n)
	}
	obj := func(nr int) {
		for len(offs) < nr {
			offs = append(offs, 0)
		}
		offs[nr-1] = pos
		write("%d 0 obj\n", nr)
	}
	write("%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")
	obj(1)
	write("<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	kids := ""
	for i := range pages {
		kids += fmt.Sprintf("%d 0 R ", 3+3*i)
	}
	obj(2)
	write("<< /Type /Pages /Kids [%s] /Count %d >>\nendobj\n", kids, pages)
	content := "q 612 0 0 792 0 0 cm /Im0 Do Q"
	for i := range pages {
		page, cs, im := 3+3*i, 4+3*i, 5+3*i
		obj(page)
		write("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>\nendobj\n", im, cs)
		obj(cs)
		write("<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(content), content)
		obj(im)
		write("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n", width, height, len(img))
		img[0]++
		n, err := w.Write(img)
		require.NoError(t, err)
		pos += int64(n)
		write("\nendstream\nendobj\n")
	}
	xref := pos
	write("xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		write("%010d 00000 n\r\n", o)
	}
	write("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	require.NoError(t, w.Flush())
}
