package auditchain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Checkpoint is a signed statement "event Pos of the chain has hash Hash",
// made at time At (microseconds). Whoever rewrites the log must then also
// forge a signature, which needs the private key, kept outside the
// database.
type Checkpoint struct {
	Pos       int64
	Hash      Hash
	At        int64
	KeyID     string
	Signature []byte
}

const checkpointTag = "lethe-audit-checkpoint-v1\x00"

// SignedBytes is what a checkpoint's signature covers: the tag, pos and at
// (8 bytes big-endian each) and the event hash.
func (c *Checkpoint) SignedBytes() []byte {
	b := append([]byte(nil), checkpointTag...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Pos))
	b = append(b, c.Hash[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(c.At))
}

// Signer signs checkpoints with one Ed25519 key.
type Signer struct {
	key ed25519.PrivateKey
}

// NewSigner signs with key.
func NewSigner(key ed25519.PrivateKey) *Signer { return &Signer{key: key} }

// Public is the key that verifies this signer's checkpoints.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign fills c's KeyID and Signature.
func (s *Signer) Sign(c *Checkpoint) {
	c.KeyID = KeyID(s.Public())
	c.Signature = ed25519.Sign(s.key, c.SignedBytes())
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex. It
// only says which key signed; the signature is what is checked.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return fmt.Sprintf("%x", sum[:8])
}

// ValidSignature reports whether one of keys signed c.
func ValidSignature(c *Checkpoint, keys []ed25519.PublicKey) bool {
	msg := c.SignedBytes()
	for _, k := range keys {
		if ed25519.Verify(k, msg, c.Signature) {
			return true
		}
	}
	return false
}

// Key files. A private key file holds "ed25519-private " and the base64 of
// the 32-byte seed; a public key is printed and read as "ed25519 " and the
// base64 of its 32 bytes (one line, easy to paste into a ticket or a
// verification command).
const (
	privatePrefix = "ed25519-private "
	publicPrefix  = "ed25519 "
)

// LoadOrCreateKey reads the private key at path, or creates one there
// (mode 0600, in a directory created 0700) when the file does not exist.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParsePrivateKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	// O_EXCL: two processes starting at once do not overwrite each other's
	// key; the loser reads the winner's.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, false, err
	}
	_, werr := f.WriteString(privatePrefix + base64.StdEncoding.EncodeToString(key.Seed()) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// ParsePrivateKey reads the content of a private key file.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, privatePrefix) {
		return nil, errors.New(`not an audit signing key: want "ed25519-private " and a base64 seed`)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, privatePrefix))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("audit signing key: the seed is not 32 bytes of base64")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// FormatPublicKey is the one-line form `lethe audit pubkey` prints.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return publicPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads what FormatPublicKey writes (the prefix may be
// left out).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), publicPrefix)
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New(`not an audit public key: want "ed25519 " and 32 bytes of base64`)
	}
	return ed25519.PublicKey(b), nil
}
