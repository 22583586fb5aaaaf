package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestZipExportOfDemoCustomer downloads /export/{id}?format=zip of a demo
// customer with invoices from a running `lethe serve` with the built-in
// plugins: the zip opens, holds the JSON (which lists every document) and
// every invoice PDF with the declared size and SHA-256, and each PDF is
// valid (qpdf --check where qpdf is installed, as in CI; a structural check
// always).
func TestZipExportOfDemoCustomer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lethe(t, "demo", "--data-dir", dir, "--customers", "40", "--seed", "3")
	url, _, _ := serveProcess(t, dir)
	raw, err := os.ReadFile(filepath.Join(dir, "dev-admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	get := func(path string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(`{"query":"{ customers(first: 40) { edges { node { id } } } }"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Data struct {
			Customers struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	type document struct {
		Connector, Name, Path, SHA256, MediaType string
		Size                                     int64
	}
	var id string
	var listed []document
	for _, e := range list.Data.Customers.Edges {
		resp, body := get("/export/" + e.Node.ID)
		var doc struct{ Documents []document }
		if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil {
			t.Fatalf("JSON export of %s: %d %.300s", e.Node.ID, resp.StatusCode, body)
		}
		if len(doc.Documents) > 0 {
			id, listed = e.Node.ID, doc.Documents
			break
		}
	}
	if id == "" {
		t.Fatalf("none of %d demo customers has a document in its JSON export", len(list.Data.Customers.Edges))
	}

	resp, body := get("/export/" + id + "?format=zip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("zip export: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	name := regexp.MustCompile(`filename="([^"]+)"`).FindStringSubmatch(resp.Header.Get("Content-Disposition"))
	if name == nil || !regexp.MustCompile(`^[A-Za-z0-9-]+_[A-Za-z0-9-]+\.zip$`).MatchString(name[1]) {
		t.Fatalf("Content-Disposition %q is not <firstname>_<lastname>.zip", resp.Header.Get("Content-Disposition"))
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the zip does not open: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
	jsonName := strings.TrimSuffix(name[1], ".zip") + ".json"
	var inZip struct{ Documents []document }
	if err := json.Unmarshal(files[jsonName], &inZip); err != nil || len(inZip.Documents) != len(listed) {
		t.Fatalf("the zip's %s lists %d documents (%v), the JSON export %d", jsonName, len(inZip.Documents), err, len(listed))
	}
	if len(files) != 1+len(listed) {
		t.Errorf("the zip holds %d files, want the JSON and %d documents", len(files), len(listed))
	}
	dir2 := t.TempDir()
	for _, d := range inZip.Documents {
		pdf, ok := files[d.Path]
		if !ok {
			t.Errorf("document %s is not in the zip", d.Path)
			continue
		}
		sum := sha256.Sum256(pdf)
		if int64(len(pdf)) != d.Size || hex.EncodeToString(sum[:]) != d.SHA256 || d.MediaType != "application/pdf" {
			t.Errorf("%s: %d bytes, SHA-256 %x; declared %+v", d.Path, len(pdf), sum, d)
		}
		if err := checkPDFStructure(pdf); err != nil {
			t.Errorf("%s: %v", d.Path, err)
		}
		if qpdf, err := exec.LookPath("qpdf"); err == nil {
			file := filepath.Join(dir2, filepath.Base(d.Path))
			if err := os.WriteFile(file, pdf, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(qpdf, "--check", file).CombinedOutput(); err != nil {
				t.Errorf("qpdf --check %s: %v\n%s", d.Path, err, out)
			}
		}
	}

	if resp, body := get("/export/" + id + "?format=xml"); resp.StatusCode != 400 || !strings.Contains(string(body), "BAD_USER_INPUT") {
		t.Errorf("unknown format: %d %s", resp.StatusCode, body)
	}
}

// checkPDFStructure is the minimal check that needs no tool: a PDF header,
// an end-of-file marker, and a startxref that points at the cross-reference
// table.
func checkPDFStructure(pdf []byte) error {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return errors.New("no %PDF- header")
	}
	m := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(pdf)
	if m == nil {
		return errors.New("no startxref and %%EOF at the end")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if off >= len(pdf) || !bytes.HasPrefix(pdf[off:], []byte("xref")) {
		return errors.New("startxref does not point at the xref table")
	}
	return nil
}
