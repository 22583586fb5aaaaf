package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

func (q *queries) Policies(ctx context.Context) ([]retention.Policy, error) {
	var rows []policyRow
	if err := q.idb.NewSelect().Model(&rows).OrderExpr("name").Scan(ctx); err != nil {
		return nil, internal("policies", err)
	}
	out := make([]retention.Policy, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (q *queries) Policy(ctx context.Context, name string) (retention.Policy, error) {
	var row policyRow
	// No row lock: nothing a customer write stores derives from a policy
	// (rules as queries), so policy changes need no ordering against them.
	err := q.idb.NewSelect().Model(&row).Where("name = ?", name).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return retention.Policy{}, retention.Errorf(retention.CodeNotFound, "no retention policy named %q", name)
	}
	if err != nil {
		return retention.Policy{}, internal("policy", err)
	}
	return row.domain(), nil
}

func (q *queries) InsertPolicy(ctx context.Context, p retention.Policy) error {
	res, err := q.idb.NewInsert().Model(policyFromDomain(p, toMicros(time.Now()))).On("CONFLICT (name) DO NOTHING").Exec(ctx)
	if err != nil {
		return internal("insert policy", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return retention.FieldErrorf("name", "a retention policy named %q already exists", p.Name)
	}
	return nil
}

func (q *queries) SavePolicy(ctx context.Context, p retention.Policy) error {
	row := policyFromDomain(p, toMicros(time.Now()))
	_, err := q.idb.NewUpdate().Model(row).Column("description", "retention_days", "version", "updated_at").WherePK().Exec(ctx)
	return internal("save policy", err)
}

// Settings are JSON documents under a key; a missing key means the default.
const (
	keyDataPolicy         = "data_policy"
	keyFieldPreferences   = "field_preferences"
	keyCustomFieldStorage = "custom_field_storage"
	keyCustomFieldLabels  = "custom_field_labels"
)

func (q *queries) loadSetting(ctx context.Context, key string, into any) (bool, error) {
	var row settingRow
	// No FOR UPDATE: every customer write reads settings, and a row lock
	// here made one row the queue of all of them. The rules lock orders
	// changes of settings against those writes (Store.UpdateRules).
	err := q.idb.NewSelect().Model(&row).Where("key = ?", key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, internal("setting "+key, err)
	}
	return true, internal("setting "+key, json.Unmarshal([]byte(row.Value), into))
}

func (q *queries) saveSetting(ctx context.Context, key string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return internal("setting "+key, err)
	}
	row := &settingRow{Key: key, Value: string(b), UpdatedAt: toMicros(time.Now())}
	_, err = q.idb.NewInsert().Model(row).On("CONFLICT (key) DO UPDATE").Set("value = EXCLUDED.value, updated_at = EXCLUDED.updated_at").Exec(ctx)
	return internal("save setting "+key, err)
}

type dataPolicyJSON struct {
	RelinquishDeletedData bool `json:"relinquishDeletedData"`
	RelinquishAfterDays   int  `json:"relinquishAfterDays"`
	AnonymiseCustomerData bool `json:"anonymiseCustomerData"`
	RemoveCDRs            bool `json:"removeCDRs"`
}

func (q *queries) DataPolicy(ctx context.Context) (retention.DataPolicy, error) {
	var v dataPolicyJSON
	ok, err := q.loadSetting(ctx, keyDataPolicy, &v)
	if err != nil || !ok {
		return retention.DefaultDataPolicy(), err
	}
	return retention.DataPolicy(v), nil
}

func (q *queries) SaveDataPolicy(ctx context.Context, dp retention.DataPolicy) error {
	return q.saveSetting(ctx, keyDataPolicy, dataPolicyJSON(dp))
}

type fieldPrefsJSON struct {
	CollectionEnabled bool              `json:"collectionEnabled"`
	Modes             map[string]string `json:"modes"`
}

func (q *queries) FieldPreferences(ctx context.Context) (retention.FieldPreferences, error) {
	var v fieldPrefsJSON
	ok, err := q.loadSetting(ctx, keyFieldPreferences, &v)
	out := retention.DefaultFieldPreferences()
	if err != nil || !ok {
		return out, err
	}
	out.CollectionEnabled = v.CollectionEnabled
	for f, m := range v.Modes {
		out.Modes[retention.Field(f)] = retention.FieldMode(m)
	}
	return out, nil
}

func (q *queries) SaveFieldPreferences(ctx context.Context, p retention.FieldPreferences) error {
	v := fieldPrefsJSON{CollectionEnabled: p.CollectionEnabled, Modes: map[string]string{}}
	for f, m := range p.Modes {
		v.Modes[string(f)] = string(m)
	}
	return q.saveSetting(ctx, keyFieldPreferences, v)
}

func (q *queries) CustomFieldStorage(ctx context.Context) (retention.CustomFieldStorage, error) {
	out := retention.DefaultCustomFieldStorage()
	var v map[string]bool
	ok, err := q.loadSetting(ctx, keyCustomFieldStorage, &v)
	if err != nil || !ok {
		return out, err
	}
	for f, on := range v {
		if _, known := out[f]; known {
			out[f] = on
		}
	}
	return out, nil
}

func (q *queries) SaveCustomFieldStorage(ctx context.Context, s retention.CustomFieldStorage) error {
	return q.saveSetting(ctx, keyCustomFieldStorage, s)
}

func (q *queries) CustomFieldLabels(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	var v map[string]string
	ok, err := q.loadSetting(ctx, keyCustomFieldLabels, &v)
	if err != nil || !ok {
		return out, err
	}
	for f, l := range v {
		if retention.ValidateCustomField("field", f) == nil && l != "" {
			out[f] = l
		}
	}
	return out, nil
}

func (q *queries) SaveCustomFieldLabels(ctx context.Context, labels map[string]string) error {
	return q.saveSetting(ctx, keyCustomFieldLabels, labels)
}

func (q *queries) LockPolicy(ctx context.Context, name string, exclusive bool) error {
	if !q.inTx || q.dialect != Postgres {
		return nil
	}
	mode := "SHARE"
	if exclusive {
		mode = "UPDATE"
	}
	var names []string
	err := q.idb.NewSelect().Table("retention_policies").Column("name").Where("name = ?", name).For(mode).Scan(ctx, &names)
	return internal("lock policy", err)
}

func (q *queries) DeletePolicy(ctx context.Context, name string) error {
	_, err := q.idb.NewDelete().TableExpr("retention_policies").Where("name = ?", name).Exec(ctx)
	return internal("delete policy", err)
}

// PolicyCustomers counts through the indexes on policy_group (an assigned
// policy is the customer's group): customers_due for those without an open
// visit, customers_undated for those with one.
func (q *queries) PolicyCustomers(ctx context.Context, name string) (int, error) {
	var a, b int
	err := q.idb.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM customers WHERE policy_group = ? AND "+reachable+
		"), (SELECT count(*) FROM customers WHERE erased_at IS NULL AND (open_visits > 0 OR held_until IS NOT NULL) AND open_visits > 0 AND policy_group = ?)",
		name, name).Scan(&a, &b)
	if err != nil {
		return 0, internal("policy customers", err)
	}
	return a + b, nil
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
