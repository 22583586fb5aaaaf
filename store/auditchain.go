package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/retention"
)

// The audit log is a hash chain (see auditchain). Events are appended at
// the end of the write transaction that records them (flushAudit), after
// every other statement of it: there the transaction takes the chain's
// head, chains its events after it and moves the head.
//
// On PostgreSQL the head is one row locked with SELECT … FOR UPDATE, so
// the appends of every replica queue on it and the log stays ONE chain in
// one order: an auditor verifies one sequence, and "verified up to event
// N" means the same thing whichever replica wrote what. One chain per
// replica would need checkpoints binding the chains together and would
// still leave the order between replicas unproven. The lock is the last
// one a transaction takes and is held only from the append to the commit
// (a few statements), so no deadlock can involve it and writers queue on
// it only for that long. Because the row is taken before the INSERT, the
// table's seq (an identity, allocated at INSERT) grows in chain order.
// On SQLite the writers are serialised already (one writer connection).

// Checkpoint defaults: a signed checkpoint after this many events, or at
// the first append once this long has passed since the last one.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = 10 * time.Minute
)

// auditChain is how this process signs checkpoints.
type auditChain struct {
	signer   *auditchain.Signer
	every    int64
	interval time.Duration
}

// SetAuditSigner makes the store sign a checkpoint every `every` events
// (DefaultCheckpointEvery when 0) and at least every
// DefaultCheckpointInterval while events are written. Without a signer the
// log is still chained, but nothing is signed.
func (s *Store) SetAuditSigner(signer *auditchain.Signer, every int64) {
	if every <= 0 {
		every = DefaultCheckpointEvery
	}
	s.chain = auditChain{signer: signer, every: every, interval: DefaultCheckpointInterval}
}

// withAuditFlush runs fn, then appends the audit events it recorded: in
// the same transaction (or savepoint), last.
func (s *Store) withAuditFlush(fn func(tx retention.Tx) error) func(tx retention.Tx) error {
	return func(tx retention.Tx) error {
		q := tx.(*queries)
		q.pendingAudit = nil
		err := fn(tx)
		if err != nil {
			q.pendingAudit = nil
			return err
		}
		return s.flushAudit(context.Background(), q)
	}
}

// chainHead is the row audit_chain_head.
type chainHead struct {
	pos           int64
	hash          auditchain.Hash
	checkpointPos int64
	checkpointAt  int64
}

// lockChainHead reads the head; on PostgreSQL it locks the row until the
// transaction ends.
func (q *queries) lockChainHead(ctx context.Context) (chainHead, error) {
	query := "SELECT pos, hash, checkpoint_pos, checkpoint_at FROM audit_chain_head WHERE id = 1"
	if q.dialect == Postgres {
		query += " FOR UPDATE"
	}
	var h chainHead
	var hash string
	if err := q.idb.QueryRowContext(ctx, query).Scan(&h.pos, &hash, &h.checkpointPos, &h.checkpointAt); err != nil {
		return h, internal("audit chain head", err)
	}
	var err error
	h.hash, err = auditchain.ParseHash(hash)
	return h, internal("audit chain head", err)
}

func (q *queries) saveChainHead(ctx context.Context, h chainHead) error {
	_, err := q.idb.ExecContext(ctx, "UPDATE audit_chain_head SET pos = ?, hash = ?, checkpoint_pos = ?, checkpoint_at = ? WHERE id = 1",
		h.pos, h.hash.Hex(), h.checkpointPos, h.checkpointAt)
	return internal("move audit chain head", err)
}

const auditColumnCount = 9

// flushAudit chains and inserts the events q recorded.
func (s *Store) flushAudit(ctx context.Context, q *queries) error {
	events := q.pendingAudit
	q.pendingAudit = nil
	if len(events) == 0 {
		return nil
	}
	head, err := q.lockChainHead(ctx)
	if err != nil {
		return err
	}
	args := make([]any, 0, len(events)*auditColumnCount)
	for i := range events {
		e := &events[i]
		h := auditchain.Append(head.pos, head.hash, e)
		head.pos, head.hash = e.Pos, h
		args = append(args, e.ID, e.At, e.Actor, e.Action, ptrArg(e.Subject), ptrArg(e.Details), e.Pos, e.Prev.Hex(), h.Hex())
	}
	err = q.execRows(ctx, func(n int) string {
		return "INSERT INTO audit_log (id, at, actor, action, subject, details, chain_pos, prev_hash, hash) VALUES " + valuesList(n, auditColumnCount)
	}, auditColumnCount, args)
	if err != nil {
		return internal("append audit", err)
	}
	now := time.Now()
	if s.chain.signer != nil && (head.pos-head.checkpointPos >= s.chain.every || now.Sub(time.UnixMicro(head.checkpointAt)) >= s.chain.interval) {
		if err := q.writeCheckpoint(ctx, s.chain.signer, &head, now); err != nil {
			return err
		}
	}
	return q.saveChainHead(ctx, head)
}

func ptrArg(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// writeCheckpoint signs the head and records the checkpoint in head.
func (q *queries) writeCheckpoint(ctx context.Context, signer *auditchain.Signer, head *chainHead, now time.Time) error {
	cp := auditchain.Checkpoint{Pos: head.pos, Hash: head.hash, At: now.UnixMicro()}
	signer.Sign(&cp)
	_, err := q.idb.ExecContext(ctx, "INSERT INTO audit_checkpoints (pos, hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?)",
		cp.Pos, cp.Hash.Hex(), cp.At, cp.KeyID, base64.StdEncoding.EncodeToString(cp.Signature))
	if err != nil {
		return internal("audit checkpoint", err)
	}
	head.checkpointPos, head.checkpointAt = cp.Pos, cp.At
	return nil
}

// AuditCheckpoint signs a checkpoint of the chain's head now, unless one
// signs it already; it returns the position signed (0: the log is empty).
func (s *Store) AuditCheckpoint(ctx context.Context) (int64, error) {
	if s.chain.signer == nil {
		return 0, fmt.Errorf("store: no audit signing key")
	}
	var pos int64
	err := s.Update(ctx, func(tx retention.Tx) error {
		q := tx.(*queries)
		head, err := q.lockChainHead(ctx)
		if err != nil {
			return err
		}
		pos = head.pos
		if head.pos == 0 || head.pos == head.checkpointPos {
			return nil
		}
		if err := q.writeCheckpoint(ctx, s.chain.signer, &head, time.Now()); err != nil {
			return err
		}
		return q.saveChainHead(ctx, head)
	})
	return pos, err
}

// chainPendingBatch bounds one transaction of chainPending.
const chainPendingBatch = 5000

// chainPending chains the rows written without a chain link after the
// last chained row: the rows of before the chain migration, and any a
// later migration inserts by SQL. A row without a link before a chained
// one stays as it is: it was slipped in, and verification says so.
func (s *Store) chainPending(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := s.Update(ctx, func(tx retention.Tx) error {
			var err error
			n, err = tx.(*queries).chainPendingRows(ctx)
			return err
		})
		total += n
		if err != nil || n < chainPendingBatch {
			return total, err
		}
	}
}

func (q *queries) chainPendingRows(ctx context.Context) (int, error) {
	head, err := q.lockChainHead(ctx)
	if err != nil {
		return 0, err
	}
	rows, err := q.idb.QueryContext(ctx, `SELECT seq, id, at, actor, action, subject, details FROM audit_log
		WHERE hash IS NULL AND seq > (SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE hash IS NOT NULL) ORDER BY seq LIMIT ?`, chainPendingBatch)
	if err != nil {
		return 0, internal("unchained audit events", err)
	}
	type link struct {
		seq  int64
		e    auditchain.Event
		hash auditchain.Hash
	}
	var links []link
	for rows.Next() {
		var l link
		if err := rows.Scan(&l.seq, &l.e.ID, &l.e.At, &l.e.Actor, &l.e.Action, &l.e.Subject, &l.e.Details); err != nil {
			rows.Close()
			return 0, internal("unchained audit events", err)
		}
		l.hash = auditchain.Append(head.pos, head.hash, &l.e)
		head.pos, head.hash = l.e.Pos, l.hash
		links = append(links, l)
	}
	if err := rows.Close(); err != nil {
		return 0, internal("unchained audit events", err)
	}
	for _, l := range links {
		_, err := q.idb.ExecContext(ctx, "UPDATE audit_log SET chain_pos = ?, prev_hash = ?, hash = ? WHERE seq = ?", l.e.Pos, l.e.Prev.Hex(), l.hash.Hex(), l.seq)
		if err != nil {
			return 0, internal("chain audit event", err)
		}
	}
	if len(links) == 0 {
		return 0, nil
	}
	return len(links), q.saveChainHead(ctx, head)
}

// AuditSource is the audit log as the verifier reads it.
func (s *Store) AuditSource() auditchain.Source { return &queries{idb: s.reads, dialect: s.dialect} }

// AuditSourceOn reads the audit log through db (a transaction, in tests
// that alter the table and roll back).
func AuditSourceOn(db bun.IDB, d Dialect) auditchain.Source { return &queries{idb: db, dialect: d} }

// VerifyAudit walks the chain and its checkpoints against keys; with no
// keys, against this store's own signing key.
func (s *Store) VerifyAudit(ctx context.Context, keys ...ed25519.PublicKey) (*auditchain.Result, error) {
	if len(keys) == 0 && s.chain.signer != nil {
		keys = []ed25519.PublicKey{s.chain.signer.Public()}
	}
	// Callers asking at the same time with the same keys share one walk:
	// a walk of a large log takes seconds, and the API offers it to every
	// role.
	var id strings.Builder
	for _, k := range keys {
		id.WriteString(auditchain.KeyID(k))
	}
	res, err, _ := s.verifying.Do(id.String(), func() (any, error) {
		return auditchain.Verify(context.WithoutCancel(ctx), s.AuditSource(), keys)
	})
	if err != nil {
		return nil, err
	}
	return res.(*auditchain.Result), nil
}

// WalkAudit reads every row in seq order (auditchain.Source).
func (q *queries) WalkAudit(ctx context.Context, fn func(*auditchain.Row) bool) error {
	rows, err := q.idb.QueryContext(ctx, "SELECT seq, id, at, actor, action, subject, details, chain_pos, prev_hash, hash FROM audit_log ORDER BY seq")
	if err != nil {
		return internal("walk audit log", err)
	}
	defer rows.Close()
	var r auditchain.Row
	var pos sql.NullInt64
	var prev, hash sql.NullString
	for rows.Next() {
		r = auditchain.Row{}
		if err := rows.Scan(&r.Seq, &r.Event.ID, &r.Event.At, &r.Event.Actor, &r.Event.Action, &r.Event.Subject, &r.Event.Details, &pos, &prev, &hash); err != nil {
			return internal("walk audit log", err)
		}
		r.Event.Pos = pos.Int64
		var perr, herr error
		r.Event.Prev, perr = auditchain.ParseHash(prev.String)
		r.Hash, herr = auditchain.ParseHash(hash.String)
		r.Unchained = !pos.Valid || !prev.Valid || !hash.Valid || perr != nil || herr != nil
		if !fn(&r) {
			break
		}
	}
	return internal("walk audit log", rows.Err())
}

// AuditCheckpoints lists the signed checkpoints by position.
func (q *queries) AuditCheckpoints(ctx context.Context) ([]auditchain.Checkpoint, error) {
	rows, err := q.idb.QueryContext(ctx, "SELECT pos, hash, at, key_id, signature FROM audit_checkpoints ORDER BY pos")
	if err != nil {
		return nil, internal("audit checkpoints", err)
	}
	defer rows.Close()
	var out []auditchain.Checkpoint
	for rows.Next() {
		var c auditchain.Checkpoint
		var hash, sig string
		if err := rows.Scan(&c.Pos, &hash, &c.At, &c.KeyID, &sig); err != nil {
			return nil, internal("audit checkpoints", err)
		}
		// A hash or signature that does not parse stays zero: the
		// signature check then fails and says so.
		c.Hash, _ = auditchain.ParseHash(hash)
		c.Signature, _ = base64.StdEncoding.DecodeString(sig)
		out = append(out, c)
	}
	return out, internal("audit checkpoints", rows.Err())
}

// LocateAudit finds the row claiming chain position pos.
func (q *queries) LocateAudit(ctx context.Context, pos int64) (int64, bool, error) {
	var seq int64
	err := q.idb.QueryRowContext(ctx, "SELECT seq FROM audit_log WHERE chain_pos = ? ORDER BY seq LIMIT 1", pos).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return seq, err == nil, internal("locate audit event", err)
}

// chainAfterMigrate chains what a migration left unchained and, when some
// were, signs a checkpoint of them at once.
func (s *Store) chainAfterMigrate(ctx context.Context) error {
	n, err := s.chainPending(ctx)
	if err != nil || n == 0 || s.chain.signer == nil {
		return err
	}
	_, err = s.AuditCheckpoint(ctx)
	return err
}

// signTail signs a checkpoint of the events written since the last one
// when the store closes, so that a process that exits cleanly (a sweep
// from the command line, a server shutting down) leaves its events
// signed. Best effort: a failure leaves them chained, and the next
// checkpoint signs them.
func (s *Store) signTail() {
	if s.chain.signer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var pos, cp int64
	if err := s.db.QueryRowContext(ctx, "SELECT pos, checkpoint_pos FROM audit_chain_head WHERE id = 1").Scan(&pos, &cp); err != nil || pos == cp {
		return
	}
	_, _ = s.AuditCheckpoint(ctx)
}
