package conduit_test

import (
	"testing"

	"github.com/conduit-dev/conduit/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
