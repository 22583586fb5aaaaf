package graph

import (
	"time"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/graph/model"
)

var breakKinds = map[auditchain.Kind]model.AuditBreakKind{
	auditchain.Changed:             model.AuditBreakKindChanged,
	auditchain.Missing:             model.AuditBreakKindMissing,
	auditchain.Reordered:           model.AuditBreakKindReordered,
	auditchain.Inserted:            model.AuditBreakKindInserted,
	auditchain.CheckpointSignature: model.AuditBreakKindCheckpointSignatureWrong,
}

func verificationModel(res *auditchain.Result) *model.AuditVerification {
	m := &model.AuditVerification{Ok: res.OK(), VerifiedUpTo: int(res.Verified), SignedUpTo: int(res.Signed), Summary: res.Summary(),
		Checkpoints: make([]model.AuditCheckpoint, 0, len(res.Checkpoints))}
	if res.Verified > 0 {
		at, hash := time.UnixMicro(res.VerifiedAt).UTC(), res.VerifiedHash.Hex()
		m.VerifiedAt, m.VerifiedHash = &at, &hash
	}
	if b := res.Break; b != nil {
		m.Break = &model.AuditChainBreak{Position: int(b.Position), Kind: breakKinds[b.Kind], Detail: b.Detail}
		if b.ID != "" {
			id := b.ID
			m.Break.EventID = &id
		}
	}
	for _, c := range res.Checkpoints {
		m.Checkpoints = append(m.Checkpoints, model.AuditCheckpoint{Position: int(c.Pos), At: time.UnixMicro(c.At).UTC(), KeyID: c.KeyID, Hash: c.Hash.Hex(), Valid: c.Valid})
	}
	return m
}
