// Package parity_test checks that the legacy REST API (/api) and the
// GraphQL API (/graphql) are two views of one service: one table, the
// matrix, lists each of the 19 legacy operations beside the GraphQL
// operation that replaces it; for every row something is done through one
// surface and read back through the other, in both directions, and the same
// mistakes are made on both surfaces to see the same class of error. The
// same table renders docs/migration.md, the guide for owners of legacy
// clients:
//
//	go test ./parity -run TestMigrationDoc -update
package parity_test

import (
	"testing"

	"github.com/conduit-dev/conduit/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
