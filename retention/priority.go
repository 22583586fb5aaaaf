package retention

import "context"

// backgroundKey marks a context whose work no person is waiting for.
type backgroundKey struct{}

// Background marks ctx as work no person is waiting for (a sweep): a store
// runs its writes after those of requests, whose callers are waiting.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground reports whether ctx was marked by Background.
func IsBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}
