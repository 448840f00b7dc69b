package resolvers

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestMemo checks that a memo runs each key's lookup once, whether the key
// is its first (kept without a map) or a later one, hands concurrent
// callers the one answer, errors included, and that prime answers only
// keys not yet asked for.
func TestMemo(t *testing.T) {
	var m memo[string, int]
	var runs [4]atomic.Int32
	keys := []string{"a", "b", "c", "d"}
	boom := errors.New("boom")
	lookup := func(i int) func() (int, error) {
		return func() (int, error) {
			runs[i].Add(1)
			if keys[i] == "c" {
				return 0, boom
			}
			return 10 + i, nil
		}
	}
	m.prime("d", 99) // d is the first key: primed, never looked up
	var wg sync.WaitGroup
	for range 8 {
		for i := range keys {
			wg.Go(func() {
				v, err := m.do(keys[i], lookup(i))
				want, wantErr := 10+i, error(nil)
				switch keys[i] {
				case "c":
					want, wantErr = 0, boom
				case "d":
					want = 99
				}
				if v != want || !errors.Is(err, wantErr) {
					t.Errorf("do(%q) = %d, %v; want %d, %v", keys[i], v, err, want, wantErr)
				}
			})
		}
	}
	wg.Wait()
	for i, k := range keys {
		want := int32(1)
		if k == "d" {
			want = 0
		}
		if n := runs[i].Load(); n != want {
			t.Errorf("%q looked up %d times, want %d", k, n, want)
		}
	}
	m.prime("a", -1) // asked for already: keeps its answer
	if v, _ := m.do("a", lookup(0)); v != 10 {
		t.Errorf("a after prime = %d, want 10", v)
	}

	var one memo[struct{}, string]
	for i := range 3 {
		v, _ := one.do(struct{}{}, func() (string, error) { return fmt.Sprint("run ", i), nil })
		if v != "run 0" || one.calls != nil {
			t.Fatalf("do #%d = %q with a map %v; want run 0 and no map for one key", i, v, one.calls)
		}
	}
}
