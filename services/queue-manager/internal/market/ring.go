package market

// ring keeps the newest values added, each stamped with the model's
// revision when it was added, for readers that each want the ones after
// their own last look.
type ring[T any] struct {
	vals []stamped[T] // a circle: next is the oldest once it is full
	next int
	full bool
}

type stamped[T any] struct {
	rev int64
	v   T
}

// newRing returns a ring that keeps the newest n values.
func newRing[T any](n int) ring[T] { return ring[T]{vals: make([]stamped[T], n)} }

func (r *ring[T]) add(rev int64, v T) {
	r.vals[r.next] = stamped[T]{rev, v}
	r.next++
	if r.next == len(r.vals) {
		r.next, r.full = 0, true
	}
}

// since returns the values kept that were added after revision rev, oldest
// first, never nil.
func (r *ring[T]) since(rev int64) []T {
	out := []T{}
	if r.full {
		out = appendSince(out, r.vals[r.next:], rev)
	}
	return appendSince(out, r.vals[:r.next], rev)
}

func appendSince[T any](out []T, vals []stamped[T], rev int64) []T {
	for _, s := range vals {
		if s.rev > rev {
			out = append(out, s.v)
		}
	}
	return out
}
