package auditchain_test

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/auditchain"
)

// TestKeyFile: the key is created once (mode 0600), read back the same,
// its public form parses back, and a checkpoint verifies with it only.
func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "audit-signing.key")
	k1, created, err := auditchain.LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	k2, created, err := auditchain.LoadOrCreateKey(path)
	if err != nil || created || !k1.Equal(k2) {
		t.Fatalf("reloaded: %v %v", created, err)
	}
	signer := auditchain.NewSigner(k1)
	pub, err := auditchain.ParsePublicKey(auditchain.FormatPublicKey(signer.Public()))
	if err != nil || !pub.Equal(signer.Public()) {
		t.Fatalf("public key round trip: %v", err)
	}
	cp := auditchain.Checkpoint{Pos: 7, At: 1}
	signer.Sign(&cp)
	other, _, _ := ed25519.GenerateKey(nil)
	if !auditchain.ValidSignature(&cp, []ed25519.PublicKey{pub}) || auditchain.ValidSignature(&cp, []ed25519.PublicKey{other}) {
		t.Fatal("a checkpoint verifies with its key only")
	}
	cp.Pos = 8
	if auditchain.ValidSignature(&cp, []ed25519.PublicKey{pub}) {
		t.Fatal("a checkpoint moved to another event still verifies")
	}
	os.WriteFile(path, []byte("not a key"), 0o600) //nolint:errcheck
	if _, _, err := auditchain.LoadOrCreateKey(path); err == nil {
		t.Fatal("a damaged key file is accepted")
	}
}
