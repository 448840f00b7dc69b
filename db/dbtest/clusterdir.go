package dbtest

import (
	"os"
	"testing"
)

// ClusterDir returns a new empty directory for a test's own PostgreSQL
// cluster, removed with everything in it when the test ends.
//
// t.TempDir will not do when the tests run as root: its directories are
// 0700, so the account that PostgreSQL runs as cannot reach a cluster in
// one, and db.StartEmbedded then keeps the cluster under
// /var/lib/conduit/embedded, linked from where it was asked for. Removing
// the test's directory removes only the link, and the cluster, tens of
// megabytes, stays behind for good. This directory is in the system's
// temporary directory, which every account may search, and is itself
// searchable (0755), so the cluster lives in it.
func ClusterDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "conduit-cluster-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("remove the cluster's directory: %v", err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}
