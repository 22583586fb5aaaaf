// Package auditchain makes the audit log tamper-evident: each event carries
// the SHA-256 of its canonical encoding, which includes the hash of the
// event before it, and checkpoints signed with Ed25519 bind the chain at
// intervals to a key that is not in the database. It knows nothing of
// where events are stored: the store hands it rows, in table order.
package auditchain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// HashSize is the length of an event hash (SHA-256).
const HashSize = sha256.Size

// Hash is the SHA-256 of one event's canonical encoding.
type Hash [HashSize]byte

// Hex is the hash as 64 lower-case hex digits, as the store keeps it.
func (h Hash) Hex() string { return hex.EncodeToString(h[:]) }

// ParseHash reads 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("hash %q: want %d hex digits", short(s), 2*HashSize)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash %q: %w", short(s), err)
	}
	return h, nil
}

func short(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// Event is what the chain covers of one audit event: every column of the
// audit log but the table's own row number (seq), which only orders rows
// and is not part of the record. Subject and Details are nil when the
// column is NULL, which the encoding tells apart from an empty string.
type Event struct {
	// Pos is the event's place in the chain: 1, 2, 3… with no gap (the
	// table's seq may skip values, a PostgreSQL sequence does on rollback).
	Pos int64
	// Prev is the hash of event Pos-1 (all zero for event 1).
	Prev Hash
	ID   string
	// At is the event's time in microseconds since the Unix epoch, exactly
	// as stored.
	At      int64
	Actor   string
	Action  string
	Subject *string
	// Details is the JSON text exactly as stored: the chain covers the
	// bytes, so a re-encoding that changes no meaning still shows.
	Details *string
}

// domainTag starts every encoded event, so that an event hash can never be
// mistaken for a hash of anything else (a checkpoint, another version).
const domainTag = "lethe-audit-event-v1\x00"

// Encode appends the canonical encoding of e to dst:
//
//	"lethe-audit-event-v1\x00"
//	pos      8 bytes, big-endian
//	prev     32 bytes
//	id       length-prefixed
//	at       8 bytes, big-endian (microseconds)
//	actor    length-prefixed
//	action   length-prefixed
//	subject  0x00 if NULL, else 0x01 and length-prefixed
//	details  0x00 if NULL, else 0x01 and length-prefixed
//
// length-prefixed: 4 bytes big-endian length, then the UTF-8 bytes. Fixed
// order and explicit lengths make the encoding injective: no two different
// events encode alike, whatever bytes their fields hold.
func Encode(dst []byte, e *Event) []byte {
	dst = append(dst, domainTag...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Pos))
	dst = append(dst, e.Prev[:]...)
	dst = appendString(dst, e.ID)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.At))
	dst = appendString(dst, e.Actor)
	dst = appendString(dst, e.Action)
	dst = appendOptional(dst, e.Subject)
	return appendOptional(dst, e.Details)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func appendOptional(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, 0)
	}
	return appendString(append(dst, 1), *s)
}

// Hasher hashes events, reusing one buffer (a verifier hashes millions).
type Hasher struct{ buf []byte }

// Sum is the SHA-256 of e's canonical encoding.
func (h *Hasher) Sum(e *Event) Hash {
	h.buf = Encode(h.buf[:0], e)
	return sha256.Sum256(h.buf)
}

// Append places e after the chain's head (pos 0 and a zero hash for an
// empty chain) and returns its hash: what the store writes when it appends.
func Append(headPos int64, headHash Hash, e *Event) Hash {
	e.Pos, e.Prev = headPos+1, headHash
	var h Hasher
	return h.Sum(e)
}
