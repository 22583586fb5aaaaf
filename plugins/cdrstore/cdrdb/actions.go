package cdrdb

import (
	"context"
	"database/sql"
	"strings"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/internal/sqlstore"
)

// Delete removes every record of each action's customer. Actions limited
// to categories other than cdr find nothing here.
func (s *Store) Delete(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return s.DB.Apply(ctx, journal, "delete", actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
		ids := customerIDs(todo)
		counts, err := s.DB.Counts(ctx, tx, `SELECT customer_id, count(*) FROM cdr_records WHERE customer_id IN `, ` GROUP BY customer_id`, ids)
		if err != nil {
			return nil, err
		}
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			if _, err := tx.ExecContext(ctx, s.DB.Q(`DELETE FROM cdr_records WHERE customer_id IN `+sqlstore.In(len(chunk))), sqlstore.Strings(chunk)...); err != nil {
				return nil, err
			}
		}
		return results(todo, counts, sdk.OutcomeDeleted), nil
	})
}

// Anonymise masks the phone numbers of each action's customer's records;
// dates, durations and costs stay for billing statistics.
func (s *Store) Anonymise(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return s.DB.Apply(ctx, journal, "anonymise", actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
		ids := customerIDs(todo)
		counts, err := s.DB.Counts(ctx, tx, `SELECT customer_id, count(*) FROM cdr_records WHERE customer_id IN `, ` GROUP BY customer_id`, ids)
		if err != nil {
			return nil, err
		}
		if err := s.mask(ctx, tx, ids); err != nil {
			return nil, err
		}
		return results(todo, counts, sdk.OutcomeAnonymised), nil
	})
}

// mask hides the phone numbers of the customers' records. Masking is done
// in SQL so it is one statement per batch: keep the 3-character country
// prefix, replace the rest.
func (s *Store) mask(ctx context.Context, tx *sql.Tx, ids []string) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		if _, err := tx.ExecContext(ctx, s.DB.Q(`UPDATE cdr_records SET
			caller = substr(caller, 1, 3) || '********',
			callee = substr(callee, 1, 3) || '********',
			anonymised = 1
			WHERE anonymised = 0 AND customer_id IN `+sqlstore.In(len(chunk))), sqlstore.Strings(chunk)...); err != nil {
			return err
		}
	}
	return nil
}

// customerIDs lists the customers of the actions that concern CDRs.
func customerIDs(actions []sdk.Action) []string {
	var ids []string
	for _, a := range actions {
		if sqlstore.Wants(a.Categories, sdk.CategoryCDR) && a.Subject.CustomerID != "" {
			ids = append(ids, a.Subject.CustomerID)
		}
	}
	return ids
}

func results(actions []sdk.Action, counts map[string]int, done sdk.Outcome) []sdk.ActionResult {
	out := make([]sdk.ActionResult, len(actions))
	for i, a := range actions {
		r := sdk.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: sdk.OutcomeNotFound}
		if n := counts[a.Subject.CustomerID]; n > 0 && sqlstore.Wants(a.Categories, sdk.CategoryCDR) {
			r.Outcome, r.Records = done, n
		}
		out[i] = r
	}
	return out
}

// Mask hides a phone number as Anonymise does, for callers that mask
// before storing.
func Mask(number string) string {
	if len(number) <= 3 {
		return strings.Repeat("*", len(number))
	}
	return number[:3] + "********"
}

// AnonymiseFields masks the phone numbers of the customer's records when
// the phone field goes, as Anonymise does; the store holds no other field,
// so any other field is not applicable (NOT_FOUND).
func (s *Store) AnonymiseFields(ctx context.Context, actions []sdk.FieldAction) ([]sdk.ActionResult, error) {
	return s.DB.ApplyFields(ctx, journal, actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.FieldAction) ([]sdk.ActionResult, error) {
		var ids []string
		for _, a := range todo {
			if sqlstore.HasField(a, sdk.FieldPhone) && a.Subject.CustomerID != "" {
				ids = append(ids, a.Subject.CustomerID)
			}
		}
		counts, err := s.DB.Counts(ctx, tx, `SELECT customer_id, count(*) FROM cdr_records WHERE anonymised = 0 AND customer_id IN `, ` GROUP BY customer_id`, ids)
		if err != nil {
			return nil, err
		}
		if err := s.mask(ctx, tx, ids); err != nil {
			return nil, err
		}
		out := sdk.FieldResults(todo, sdk.OutcomeNotFound)
		for i, a := range todo {
			if n := counts[a.Subject.CustomerID]; n > 0 && sqlstore.HasField(a, sdk.FieldPhone) {
				out[i].Outcome, out[i].Records = sdk.OutcomeAnonymised, n
			}
		}
		return out, nil
	})
}
