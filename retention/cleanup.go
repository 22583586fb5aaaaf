package retention

import (
	"context"
	"time"
)

// EndStaleVisits ends visits open for longer than maxOpen: a visit nobody
// ended would otherwise keep a walk-in's data, and defer its customer's
// deletion time, forever. It returns how many it ended.
func (s *Service) EndStaleVisits(ctx context.Context, maxOpen time.Duration) (int, error) {
	n := 0
	for {
		visits, err := s.store.OpenVisitsStartedBefore(ctx, s.Now().Add(-maxOpen), 200)
		if err != nil || len(visits) == 0 {
			return n, err
		}
		for _, v := range visits {
			if _, err := s.EndVisit(ctx, v.ID); err != nil && ErrorCode(err) != CodeBadUserInput {
				return n, err
			}
			n++
		}
	}
}
