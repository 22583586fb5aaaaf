package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"time"
)

// file is one file of the pack.
type file struct {
	name string
	data []byte
}

// ManifestFile is one file as the manifest lists it.
type ManifestFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
}

// Manifest is manifest.json: the period, when the pack was made, the
// audit chain's state, and every other file with its SHA-256.
type Manifest struct {
	Format      string         `json:"format"`
	From        time.Time      `json:"from"`
	To          time.Time      `json:"to"`
	GeneratedAt time.Time      `json:"generatedAt"`
	Chain       string         `json:"auditChain"`
	Files       []ManifestFile `json:"files"`
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// WriteZip writes the pack: report.html, the CSV files, manifest.json.
func (p *Pack) WriteZip(w io.Writer) error {
	files, err := p.csvFiles()
	if err != nil {
		return err
	}
	html, err := p.renderHTML(files)
	if err != nil {
		return err
	}
	files = append([]file{{name: "report.html", data: html}}, files...)
	m := Manifest{Format: "lethe-evidence-pack-v1", From: p.From, To: p.To, GeneratedAt: p.GeneratedAt}
	if p.Chain != nil {
		m.Chain = p.Chain.Summary()
	}
	for _, f := range files {
		m.Files = append(m.Files, ManifestFile{Name: f.name, SHA256: digest(f.data), Bytes: len(f.data)})
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	files = append(files, file{name: "manifest.json", data: append(mj, '\n')})
	zw := zip.NewWriter(w)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: p.GeneratedAt})
		if err != nil {
			return err
		}
		if _, err := io.Copy(fw, bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	return zw.Close()
}

// FileName is the pack's download name: evidence_<from>_<to>.zip.
func (p *Pack) FileName() string {
	return "evidence_" + p.From.Format("20060102") + "_" + p.To.Format("20060102") + ".zip"
}

func sortStrings(s []string) { sort.Strings(s) }
