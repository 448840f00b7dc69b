// Package composecheck checks the repository's compose.yaml with
// compose-go, the loader Docker Compose itself uses: against the Compose
// Specification's JSON schema, then for what the deployment relies on. It
// is a module of its own so that the server's go.mod carries none of it.
package composecheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// load parses and validates the compose file at path as `docker compose
// config` would, with JWT_SECRET set in the environment.
func load(t *testing.T, path string) (*types.Project, error) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs}},
		Environment: types.Mapping{"JWT_SECRET": "compose-check-secret"},
	})
}

func TestComposeFile(t *testing.T) {
	p, err := load(t, "../../../compose.yaml")
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	if p.Name != "conduit" {
		t.Errorf("project name = %q, want conduit", p.Name)
	}
	db, err := p.GetService("db")
	if err != nil {
		t.Fatal(err)
	}
	server, err := p.GetService("conduit")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("DatabaseHealthcheck", func(t *testing.T) {
		if db.HealthCheck == nil || len(db.HealthCheck.Test) == 0 || db.HealthCheck.Disable {
			t.Fatalf("db healthcheck = %+v, want a test", db.HealthCheck)
		}
		if test := strings.Join(db.HealthCheck.Test, " "); !strings.Contains(test, "pg_isready") {
			t.Errorf("db healthcheck runs %q, want pg_isready", test)
		}
	})
	t.Run("DatabaseNamedVolume", func(t *testing.T) {
		var data *types.ServiceVolumeConfig
		for i, v := range db.Volumes {
			if v.Target == "/var/lib/postgresql/data" {
				data = &db.Volumes[i]
			}
		}
		if data == nil || data.Type != types.VolumeTypeVolume {
			t.Fatalf("db volumes = %+v, want a named volume at /var/lib/postgresql/data", db.Volumes)
		}
		if _, ok := p.Volumes[data.Source]; !ok {
			t.Errorf("volume %q is not declared at the top level: %v", data.Source, p.Volumes)
		}
	})
	t.Run("ServerWaitsForHealthyDatabase", func(t *testing.T) {
		if dep, ok := server.DependsOn["db"]; !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Fatalf("conduit depends_on = %+v, want db with condition service_healthy", server.DependsOn)
		}
	})
	t.Run("ServerConfiguration", func(t *testing.T) {
		if server.Build == nil || server.Build.Context != p.WorkingDir {
			t.Errorf("conduit build = %+v, want the repository's Dockerfile", server.Build)
		}
		url := server.Environment["DATABASE_URL"]
		if url == nil || !strings.Contains(*url, "@db:5432/") {
			t.Errorf("DATABASE_URL = %v, want the db service", url)
		}
		file := server.Environment["JWT_SECRET_FILE"]
		if file == nil || len(server.Secrets) != 1 || *file != "/run/secrets/"+server.Secrets[0].Source {
			t.Fatalf("JWT_SECRET_FILE = %v, secrets %+v; want the file of the one secret", file, server.Secrets)
		}
		if s := p.Secrets[server.Secrets[0].Source]; s.Environment != "JWT_SECRET" {
			t.Errorf("secret %s = %+v, want it from the environment's JWT_SECRET", server.Secrets[0].Source, s)
		}
		// The server drains for up to SHUTDOWN_TIMEOUT (15s) on SIGTERM.
		if server.StopGracePeriod == nil || time.Duration(*server.StopGracePeriod) <= 15*time.Second {
			t.Errorf("stop_grace_period = %v, want more than the 15s drain", server.StopGracePeriod)
		}
	})
}

// TestSchemaEnforced makes sure the check above can fail: compose-go
// refuses what the Compose Specification does not allow.
func TestSchemaEnforced(t *testing.T) {
	for name, doc := range map[string]string{
		"UnknownKey":    "services:\n  db:\n    image: postgres:17\n    helthcheck:\n      test: [CMD, true]\n",
		"WrongType":     "services:\n  db:\n    image: postgres:17\n    ports: 5432\n",
		"BadCondition":  "services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: when_ready\n  b:\n    image: y\n",
		"UnknownSecret": "services:\n  a:\n    image: x\n    secrets: [nope]\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "compose.yaml")
			if err := os.WriteFile(path, []byte("name: check\n"+doc), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := load(t, path); err == nil {
				t.Fatalf("loaded:\n%s\nwant a refusal", doc)
			} else {
				t.Log(err)
			}
		})
	}
}
