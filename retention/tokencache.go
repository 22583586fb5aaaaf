package retention

import (
	"sync"
	"time"
)

// DefaultTokenCacheTTL is how long a replica trusts a token it has read
// without reading it again. Every request carries a token, and reading it
// was one database statement per request; a token revoked through this
// Service is refused at once, one revoked elsewhere (`lethe token revoke`,
// another replica) within this bound.
const DefaultTokenCacheTTL = time.Second

// maxCachedTokens bounds the cache: a deployment has a handful of tokens,
// so this is only reached by a flood of distinct valid tokens, and then the
// cache starts again empty rather than grow.
const maxCachedTokens = 1024

// tokenCache remembers recently read live tokens by hash. Unknown and
// revoked tokens are never cached: a new token works at once, and a refused
// one is refused by the database every time. Entries expire on the
// monotonic clock, not the service's (a test clock may stand still).
type tokenCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[TokenHash]cachedToken
	// gen counts revocations: a token read before one and stored after it
	// is not cached, so a revocation here can never be undone by a read
	// that was under way.
	gen uint64
}

type cachedToken struct {
	token   APIToken
	expires time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, entries: map[TokenHash]cachedToken{}}
}

// get returns the cached token while it is fresh; on a miss, the
// generation to pass to put.
func (c *tokenCache) get(h TokenHash) (APIToken, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[h]
	if !ok {
		return APIToken{}, c.gen, false
	}
	if time.Now().After(e.expires) {
		delete(c.entries, h)
		return APIToken{}, c.gen, false
	}
	return e.token, c.gen, true
}

// put caches a live token read at generation gen.
func (c *tokenCache) put(h TokenHash, t APIToken, gen uint64) {
	if c.ttl <= 0 || t.RevokedAt != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= maxCachedTokens {
		clear(c.entries)
	}
	c.entries[h] = cachedToken{token: t, expires: time.Now().Add(c.ttl)}
}

// touched records a new last-used time in a cached token, so that the
// requests that follow do not write it again.
func (c *tokenCache) touched(h TokenHash, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[h]; ok {
		e.token.LastUsedAt = &at
		c.entries[h] = e
	}
}

// forget drops every cached token with that name (a revocation).
func (c *tokenCache) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.entries {
		if e.token.Name == name {
			delete(c.entries, h)
		}
	}
}
