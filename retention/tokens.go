package retention

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"time"
)

// TokenPrefix starts every API token, so that a leaked token is easy to
// recognise (secret scanners, logs) and a wrong kind of secret is refused
// before any lookup.
const TokenPrefix = "lethe_"

// tokenSecretBytes is the entropy of a token: 256 bits.
const tokenSecretBytes = 32

// tokenLen is the length of a well-formed token: the prefix and 32 bytes in
// unpadded base64url.
var tokenLen = len(TokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenSecretBytes)

// APIToken is a stored token: its name and role, never its secret (only the
// hash of it is stored, by the store).
type APIToken struct {
	ID         string
	Name       string
	Role       Role
	CreatedAt  time.Time
	CreatedBy  string
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TokenHash is the hex SHA-256 of a token, what the store keeps and looks
// tokens up by. The secret has 256 bits of entropy, so a fast hash is
// enough: there is nothing to brute-force, unlike a password.
type TokenHash string

// NewTokenSecret returns a fresh random token and its hash.
func NewTokenSecret() (string, TokenHash, error) {
	b := make([]byte, tokenSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashToken(secret), nil
}

func hashToken(secret string) TokenHash {
	sum := sha256.Sum256([]byte(secret))
	return TokenHash(hex.EncodeToString(sum[:]))
}

// ParseToken checks the shape of a presented token and returns its hash.
// The error is UNAUTHENTICATED and never repeats the token.
func ParseToken(raw string) (TokenHash, error) {
	if len(raw) != tokenLen || raw[:len(TokenPrefix)] != TokenPrefix {
		return "", Errorf(CodeUnauthenticated, "the token is not a Lethe API token (lethe_ followed by 43 characters); create one with `lethe token create`")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw[len(TokenPrefix):])
	if err != nil || len(b) != tokenSecretBytes {
		return "", Errorf(CodeUnauthenticated, "the token is not a Lethe API token (lethe_ followed by 43 characters); create one with `lethe token create`")
	}
	return hashToken(raw), nil
}

var tokenNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ValidateTokenName: a token's name is what the audit log records as the
// actor, so it is short and plain: letters, digits, . _ @ -, at most 64.
func ValidateTokenName(name string) error {
	if !tokenNamePattern.MatchString(name) {
		return FieldErrorf("name", "token name %q: use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", Truncate(name, 70))
	}
	return nil
}

// TokenStore keeps API tokens; retention.Store implementations provide it.
type TokenStore interface {
	// TokenByHash returns the token, revoked ones included; NOT_FOUND when
	// no token has that hash.
	TokenByHash(ctx context.Context, hash TokenHash) (*APIToken, error)
	// Tokens lists every token, revoked ones included, oldest first.
	Tokens(ctx context.Context) ([]APIToken, error)
}

// TokenWriter writes API tokens in a Tx.
type TokenWriter interface {
	// InsertToken returns BAD_USER_INPUT when a live token has the name.
	InsertToken(ctx context.Context, t APIToken, hash TokenHash) error
	// RevokeToken revokes the live token with that name; NOT_FOUND when
	// there is none.
	RevokeToken(ctx context.Context, name string, at time.Time) (APIToken, error)
	// TouchToken records when a token was last used.
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// CreateToken makes a token and returns its secret, which is shown once and
// never stored. Errors: BAD_USER_INPUT (name, role, name taken).
func (s *Service) CreateToken(ctx context.Context, name string, role Role) (string, APIToken, error) {
	if err := ValidateTokenName(name); err != nil {
		return "", APIToken{}, err
	}
	if !role.Valid() {
		return "", APIToken{}, FieldErrorf("role", "unknown role %q: use viewer, operator or admin", Truncate(string(role), 40))
	}
	secret, hash, err := NewTokenSecret()
	if err != nil {
		return "", APIToken{}, err
	}
	t := APIToken{ID: NewID("tok_"), Name: name, Role: role, CreatedAt: s.Now(), CreatedBy: actorName(ctx)}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.InsertToken(ctx, t, hash); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditTokenCreate, name, map[string]any{"role": string(role), "tokenId": t.ID})
	})
	if err != nil {
		return "", APIToken{}, err
	}
	return secret, t, nil
}

// Tokens lists every token, revoked ones included; never a secret.
func (s *Service) Tokens(ctx context.Context) ([]APIToken, error) { return s.store.Tokens(ctx) }

// RevokeToken revokes the live token with that name at once.
// Errors: NOT_FOUND.
func (s *Service) RevokeToken(ctx context.Context, name string) (APIToken, error) {
	var out APIToken
	// Refused here from the commit on; other processes' caches let it
	// pass for at most DefaultCacheTTL.
	defer s.tokens.change()()
	err := s.store.Update(ctx, func(tx Tx) error {
		t, err := tx.RevokeToken(ctx, name, s.Now())
		if err != nil {
			return err
		}
		out = t
		return s.audit(ctx, tx, AuditTokenRevoke, name, map[string]any{"tokenId": t.ID, "role": string(t.Role)})
	})
	return out, err
}

// AuthenticateNow is Authenticate read from the database, never from the
// cache: for a connection that authenticated once and lives on (a
// websocket), each of whose operations must see a revocation or a role
// change made by another process (`lethe token revoke`, another replica)
// at once. Errors: as Authenticate's.
func (s *Service) AuthenticateNow(ctx context.Context, raw string) (Actor, error) {
	hash, err := ParseToken(raw)
	if err != nil {
		return Actor{}, err
	}
	t, err := s.storedToken(ctx, hash)
	if err != nil {
		return Actor{}, err
	}
	return Actor{Name: t.Name, Role: t.Role}, nil
}

// storedToken reads a live token: UNAUTHENTICATED when it is unknown or
// revoked.
func (s *Service) storedToken(ctx context.Context, hash TokenHash) (*APIToken, error) {
	stored, err := s.store.TokenByHash(ctx, hash)
	if ErrorCode(err) == CodeNotFound {
		return nil, Errorf(CodeUnauthenticated, "unknown API token: create one with `lethe token create`")
	}
	if err != nil {
		return nil, err
	}
	if stored.RevokedAt != nil {
		return nil, Errorf(CodeUnauthenticated, "API token %q was revoked at %s", stored.Name, FormatTime(*stored.RevokedAt))
	}
	return stored, nil
}

// touchEvery throttles the last-used time: writing it on every request
// would make every read a write.
const touchEvery = time.Minute

// Authenticate returns the actor a presented token stands for.
// Errors: UNAUTHENTICATED (wrong shape, unknown, revoked) with a message
// that never repeats the token.
func (s *Service) Authenticate(ctx context.Context, raw string) (Actor, error) {
	hash, err := ParseToken(raw)
	if err != nil {
		return Actor{}, err
	}
	t, gen, cached := s.tokens.get(hash)
	if !cached {
		stored, err := s.storedToken(ctx, hash)
		if err != nil {
			return Actor{}, err
		}
		t = *stored
		s.tokens.put(hash, t, gen)
	}
	now := s.Now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		// Recorded in the cache first, so that the requests meanwhile do
		// not all write it too.
		s.tokens.update(hash, func(t *APIToken) { t.LastUsedAt = &now })
		// Best effort: a busy database must not refuse a valid token.
		if err := s.store.Update(ctx, func(tx Tx) error { return tx.TouchToken(ctx, t.ID, now) }); err != nil {
			s.log.WarnContext(ctx, "token last-used time not recorded", "token", t.Name, "err", err)
		}
	}
	return Actor{Name: t.Name, Role: t.Role}, nil
}
