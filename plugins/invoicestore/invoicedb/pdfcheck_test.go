package invoicedb_test

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// checkPDF is a minimal structural validation, enough to catch a broken
// file: header, trailer, a startxref that points at the xref table, every
// in-use xref entry pointing at its "N 0 obj", and a page tree whose
// /Count matches the page objects. It returns the page count.
func checkPDF(pdf []byte) (int, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) {
		return 0, fmt.Errorf("no %%PDF- header")
	}
	if !bytes.HasSuffix(bytes.TrimRight(pdf, "\r\n "), []byte("%%EOF")) {
		return 0, fmt.Errorf("no %%%%EOF at the end")
	}
	m := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(pdf)
	if m == nil {
		return 0, fmt.Errorf("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if xref >= len(pdf) || !bytes.HasPrefix(pdf[xref:], []byte("xref")) {
		return 0, fmt.Errorf("startxref %d does not point at an xref table", xref)
	}
	hm := regexp.MustCompile(`^xref\s+0 (\d+)\s+`).FindSubmatch(pdf[xref:])
	if hm == nil {
		return 0, fmt.Errorf("malformed xref header")
	}
	size, _ := strconv.Atoi(string(hm[1]))
	entries := pdf[xref+len(hm[0]):]
	entryRE := regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf])\s{1,2}`)
	for i := range size {
		em := entryRE.FindSubmatch(entries)
		if em == nil {
			return 0, fmt.Errorf("xref entry %d malformed", i)
		}
		entries = entries[len(em[0]):]
		if string(em[3]) != "n" {
			continue
		}
		off, _ := strconv.Atoi(string(em[1]))
		want := fmt.Sprintf("%d 0 obj", i)
		if off >= len(pdf) || !bytes.HasPrefix(pdf[off:], []byte(want)) {
			return 0, fmt.Errorf("xref entry %d points at offset %d, which is not %q", i, off, want)
		}
	}
	if !regexp.MustCompile(`trailer\s*<<[^>]*/Size ` + strconv.Itoa(size) + `\b`).Match(pdf) {
		return 0, fmt.Errorf("trailer /Size does not match the xref table")
	}
	cm := regexp.MustCompile(`/Type /Pages\s*/Kids \[[^\]]*\]\s*/Count (\d+)`).FindSubmatch(pdf)
	if cm == nil {
		return 0, fmt.Errorf("no page tree")
	}
	count, _ := strconv.Atoi(string(cm[1]))
	pages := len(regexp.MustCompile(`/Type /Page[^s]`).FindAll(pdf, -1))
	if pages != count {
		return 0, fmt.Errorf("page tree says %d pages, found %d page objects", count, pages)
	}
	return pages, nil
}

// pdfText is the file's bytes followed by every stream inflated, so a
// search finds text whether or not a stream was compressed.
func pdfText(pdf []byte) []byte {
	out := bytes.Clone(pdf)
	re := regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)
	for _, m := range re.FindAllSubmatch(pdf, -1) {
		if r, err := zlib.NewReader(bytes.NewReader(m[1])); err == nil {
			if b, err := io.ReadAll(r); err == nil {
				out = append(out, b...)
			}
		}
	}
	return out
}
