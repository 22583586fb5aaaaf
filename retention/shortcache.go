package retention

import (
	"sync"
	"time"
)

// DefaultCacheTTL is how long a replica trusts an API token or the
// collection preferences it has read without reading them again. Every
// request carries a token and most read the preferences: one database
// statement each, per request. A change made through this Service (a
// token revoked, preferences saved) applies at once; one made by another
// process (`lethe token revoke`, another replica) within this bound.
const DefaultCacheTTL = time.Second

// maxCacheEntries bounds a cache: a deployment has a handful of tokens, so
// this is only reached by a flood of distinct valid ones, and then the
// cache starts again empty rather than grow.
const maxCacheEntries = 1024

// shortCache keeps values read from the database for a short time. Entries
// expire on the monotonic clock, not the service's (a test clock may stand
// still). While a change of the cached data is under way in this process,
// and after it, nothing read before its commit is served or kept: see
// change.
type shortCache[K comparable, V any] struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[K]cacheEntry[V]
	// gen counts changes begun and ended; changing counts those under way.
	gen      uint64
	changing int
}

type cacheEntry[V any] struct {
	v       V
	expires time.Time
}

func newShortCache[K comparable, V any](ttl time.Duration) *shortCache[K, V] {
	return &shortCache[K, V]{ttl: ttl, entries: map[K]cacheEntry[V]{}}
}

// get returns a fresh cached value; on a miss, the generation to give put.
func (c *shortCache[K, V]) get(k K) (V, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || c.changing > 0 {
		var zero V
		return zero, c.gen, false
	}
	if time.Now().After(e.expires) {
		delete(c.entries, k)
		var zero V
		return zero, c.gen, false
	}
	return e.v, c.gen, true
}

// put caches v, read at generation gen: not if a change began since.
func (c *shortCache[K, V]) put(k K, v V, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.changing > 0 {
		return
	}
	if len(c.entries) >= maxCacheEntries {
		clear(c.entries)
	}
	c.entries[k] = cacheEntry[V]{v: v, expires: time.Now().Add(c.ttl)}
}

// update changes a cached value in place, if it is there.
func (c *shortCache[K, V]) update(k K, f func(*V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		f(&e.v)
		c.entries[k] = e
	}
}

// change is called before this process changes what the cache holds; the
// function it returns, after the change committed (or failed). In between,
// every read goes to the database, and nothing read before the end is
// cached: the change applies at once here.
func (c *shortCache[K, V]) change() (end func()) {
	c.mu.Lock()
	c.changing++
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.changing--
		c.gen++
		clear(c.entries)
		c.mu.Unlock()
	}
}
