package cfs

import "encoding/json"

// Lock is a named cluster lock (pmxcfs priv/lock/<id>) held through the log.
// Times are leader time in unix milliseconds; Fence is the log index of the
// grant, so it increases with every grant.
type Lock struct {
	ID      string `json:"id"`
	Owner   string `json:"owner"`
	Node    string `json:"node"`
	Fence   uint64 `json:"fence"`
	Granted int64  `json:"granted"`
	Expires int64  `json:"expires"`
}

// Lock timing defaults, as in Proxmox.
const (
	// DefaultLeaseMs is how long a grant lives without renewal (pmxcfs CFS_LOCK_TIMEOUT, 120 s).
	DefaultLeaseMs = 120_000
	// MinLeaseMs is the shortest lease a holder may ask for.
	MinLeaseMs = 1_000
	// MaxLeaseMs is the longest lease a holder may ask for.
	MaxLeaseMs = 3_600_000
)

// LockRequest is the body of lock.acquire, lock.renew and lock.release.
type LockRequest struct {
	ID      string `json:"id"`
	Owner   string `json:"owner"`
	Fence   uint64 `json:"fence,omitempty"`
	LeaseMs int64  `json:"lease_ms,omitempty"`
}

// LockGrant is the result of lock.acquire and lock.renew.
type LockGrant struct {
	ID      string `json:"id"`
	Owner   string `json:"owner"`
	Fence   uint64 `json:"fence"`
	Expires int64  `json:"expires"`
}

// lockAt returns the lock id as the txn sees it, or nil if free or expired.
func (tx *Txn) lockAt(id string) *Lock {
	l, staged := tx.locks[id]
	if !staged {
		l = tx.st.locks[id]
	}
	if l == nil || l.Expires <= tx.stamp.Clock {
		return nil
	}
	return l
}

// LockHolder returns the live holder of lock id, or nil.
func (tx *Txn) LockHolder(id string) *Lock { return tx.lockAt(id) }

func (tx *Txn) setLock(id string, l *Lock) {
	if tx.locks == nil {
		tx.locks = make(map[string]*Lock)
	}
	tx.locks[id] = l
}

func validLockID(id string) error {
	if id == "" || len(id) > 128 {
		return Errorf(400, CodeInvalid, "invalid lock id '%s'", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return Errorf(400, CodeInvalid, "invalid lock id '%s'", id)
		}
	}
	return nil
}

func lease(ms int64) (int64, error) {
	if ms == 0 {
		return DefaultLeaseMs, nil
	}
	if ms < MinLeaseMs || ms > MaxLeaseMs {
		return 0, Errorf(400, CodeInvalid, "lease must be between %d and %d ms", MinLeaseMs, MaxLeaseMs)
	}
	return ms, nil
}

func decodeLock(body json.RawMessage) (LockRequest, error) {
	var r LockRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return r, Errorf(400, CodeInvalid, "bad lock request: %v", err)
	}
	if err := validLockID(r.ID); err != nil {
		return r, err
	}
	if r.Owner == "" {
		return r, Errorf(400, CodeInvalid, "lock request without owner")
	}
	return r, nil
}

// LockBusyError is the error for a lock held by someone else.
func LockBusyError(id string) *Error {
	return Errorf(500, CodeLockBusy, "cfs-lock '%s' error: got lock request timeout", id)
}

func opLockAcquire(tx *Txn, body json.RawMessage) (any, error) {
	r, err := decodeLock(body)
	if err != nil {
		return nil, err
	}
	ms, err := lease(r.LeaseMs)
	if err != nil {
		return nil, err
	}
	now := tx.stamp.Clock
	if cur := tx.lockAt(r.ID); cur != nil {
		if cur.Owner != r.Owner {
			return nil, LockBusyError(r.ID)
		}
		n := *cur
		n.Expires = now + ms
		tx.setLock(r.ID, &n)
		return LockGrant{ID: n.ID, Owner: n.Owner, Fence: n.Fence, Expires: n.Expires}, nil
	}
	fence := tx.stamp.Index
	if fence <= tx.fence {
		fence = tx.fence + 1
	}
	tx.fence = fence
	l := &Lock{ID: r.ID, Owner: r.Owner, Node: tx.stamp.Node, Fence: fence, Granted: now, Expires: now + ms}
	tx.setLock(r.ID, l)
	return LockGrant{ID: l.ID, Owner: l.Owner, Fence: l.Fence, Expires: l.Expires}, nil
}

func notHeld(r LockRequest) *Error {
	return Errorf(500, CodeFence, "cfs-lock '%s' error: lock not held (fencing token %d is stale)", r.ID, r.Fence)
}

func opLockRenew(tx *Txn, body json.RawMessage) (any, error) {
	r, err := decodeLock(body)
	if err != nil {
		return nil, err
	}
	ms, err := lease(r.LeaseMs)
	if err != nil {
		return nil, err
	}
	cur := tx.lockAt(r.ID)
	if cur == nil || cur.Owner != r.Owner || (r.Fence != 0 && cur.Fence != r.Fence) {
		return nil, notHeld(r)
	}
	n := *cur
	n.Expires = tx.stamp.Clock + ms
	tx.setLock(r.ID, &n)
	return LockGrant{ID: n.ID, Owner: n.Owner, Fence: n.Fence, Expires: n.Expires}, nil
}

func opLockRelease(tx *Txn, body json.RawMessage) (any, error) {
	r, err := decodeLock(body)
	if err != nil {
		return nil, err
	}
	cur, staged := tx.locks[r.ID]
	if !staged {
		cur = tx.st.locks[r.ID]
	}
	if cur == nil || cur.Owner != r.Owner || (r.Fence != 0 && cur.Fence != r.Fence) {
		return nil, notHeld(r)
	}
	tx.setLock(r.ID, nil)
	return nil, nil
}

// checkFence refuses a command whose fencing token is no longer valid.
func (tx *Txn) checkFence(f *Fence) error {
	if f == nil {
		return nil
	}
	cur := tx.lockAt(f.Lock)
	if cur == nil || cur.Fence != f.Token {
		return notHeld(LockRequest{ID: f.Lock, Fence: f.Token})
	}
	return nil
}

// checkAwait fails with CodeLockBusy if one of ids is held by another owner.
func (tx *Txn) checkAwait(ids []string, owner string) error {
	for _, id := range ids {
		if cur := tx.lockAt(id); cur != nil && (owner == "" || cur.Owner != owner) {
			return LockBusyError(id)
		}
	}
	return nil
}
