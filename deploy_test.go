package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/db/dbtest"
)

// replicaSecret is a JWT secret strong enough for production, shared by
// the replicas of a test as a deployment shares one.
const replicaSecret = "replica-test-secret-Jq8vN2xR7kW4mZ1pT6yB3cF9"

// TestReplicasMigrateOnce starts three servers at once on one empty
// database, as the first deploy of three replicas does. Each migrates as
// it starts; all three must come up and serve, and every migration must
// have been applied once, by one of them.
func TestReplicasMigrateOnce(t *testing.T) {
	url := dbtest.NewURL(t)
	// Start from nothing, as a new production database does.
	dbtest.Exec(t, url, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`)

	type replica struct {
		out  syncBuffer
		done chan error
		base string
	}
	ctx, cancel := context.WithCancel(context.Background())
	replicas := make([]*replica, 3)
	start := make(chan struct{})
	for i := range replicas {
		r := &replica{done: make(chan error, 1)}
		replicas[i] = r
		go func() {
			<-start // all three at once, to race for the schema
			r.done <- run(ctx, []string{"conduit"}, env(map[string]string{
				"ADDR": "127.0.0.1:0", "DATABASE_URL": url, "JWT_SECRET": replicaSecret,
				"BCRYPT_COST": "4", "LOG_FORMAT": "json", "EMBEDDED_DATABASE": "false",
			}), &r.out)
		}()
	}
	close(start)
	defer func() {
		cancel()
		for i, r := range replicas {
			if err := <-r.done; err != nil {
				t.Errorf("replica %d: run: %v", i, err)
			}
		}
	}()
	for _, r := range replicas {
		r.base = waitListening(t, &r.out, r.done)
	}

	// A user made on one replica is known to every other, with the same
	// token: they share nothing but the database and the secret.
	var reg struct{ User struct{ Token string } }
	call(t, "POST", replicas[0].base+"/api/users", "", `{"user":{"username":"replica","email":"replica@example.com","password":"password1"}}`, 201, &reg)
	for i, r := range replicas {
		var me struct{ User struct{ Username string } }
		call(t, "GET", r.base+"/api/user", reg.User.Token, "", 200, &me)
		if me.User.Username != "replica" {
			t.Errorf("replica %d: GET /api/user = %q, want replica", i, me.User.Username)
		}
		waitOK(t, r.base+"/readyz")
	}

	applied := 0
	for _, r := range replicas {
		for _, line := range strings.Split(r.out.String(), "\n") {
			if strings.Contains(line, `"msg":"applied migration"`) {
				applied++
			}
		}
	}
	recorded := dbtest.QueryInt(t, url, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`)
	distinct := dbtest.QueryInt(t, url, `SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`)
	if recorded == 0 || recorded != distinct {
		t.Errorf("goose_db_version holds %d migrations, %d distinct; want each once", recorded, distinct)
	}
	if int64(applied) != distinct {
		t.Errorf("the replicas applied %d migrations in all, want %d: each once", applied, distinct)
	}
}

// TestHealthcheck runs `conduit healthcheck` against a running server, at
// the addresses a container gives it.
func TestHealthcheck(t *testing.T) {
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conduit"}, env(map[string]string{
			"ADDR": addr, "DATABASE_URL": dbtest.NewURL(t), "BCRYPT_COST": "4", "LOG_FORMAT": "json",
		}), &out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitListening(t, &out, done)

	check := func(vars map[string]string, args ...string) error {
		return run(context.Background(), append([]string{"conduit", "healthcheck"}, args...), env(vars), &out)
	}
	t.Run("OK", func(t *testing.T) {
		for _, vars := range []map[string]string{
			{"ADDR": addr},
			{"ADDR": ":" + port},        // a wildcard listener, as in the image
			{"ADDR": "0.0.0.0:" + port}, // the same, spelled out
			{"PORT": port},              // as platforms that set PORT run it
			{"PORT": "1", "ADDR": addr}, // ADDR wins, as for the server
		} {
			if err := check(vars); err != nil {
				t.Errorf("healthcheck with %v: %v", vars, err)
			}
		}
		if err := check(map[string]string{"ADDR": addr}, "/readyz"); err != nil {
			t.Errorf("healthcheck /readyz: %v", err)
		}
	})
	t.Run("ErrNotOK", func(t *testing.T) {
		err := check(map[string]string{"ADDR": addr}, "/api/user")
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("healthcheck /api/user = %v, want an error naming 401", err)
		}
	})
	t.Run("ErrNoServer", func(t *testing.T) {
		start := time.Now()
		if err := check(map[string]string{"ADDR": freeAddr(t)}); err == nil {
			t.Fatal("healthcheck of a port nobody listens on succeeded")
		}
		if d := time.Since(start); d > healthcheckTimeout+time.Second {
			t.Errorf("healthcheck took %v, want at most its timeout %v", d, healthcheckTimeout)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		for _, c := range []struct {
			vars map[string]string
			args []string
		}{
			{map[string]string{"ADDR": "127.0.0.1:0"}, nil}, // no port to know
			{map[string]string{"ADDR": "no port"}, nil},
			{map[string]string{"ADDR": addr}, []string{"healthz"}},
			{map[string]string{"ADDR": addr}, []string{"/healthz", "/readyz"}},
		} {
			if err := check(c.vars, c.args...); err == nil || !strings.HasPrefix(err.Error(), "healthcheck:") {
				t.Errorf("healthcheck %v with %v = %v, want a refusal", c.args, c.vars, err)
			}
		}
	})
}

// TestContainerSettings covers what the container image relies on: no
// embedded cluster (so DATABASE_URL is required) and the JWT secret read
// from a mounted file.
func TestContainerSettings(t *testing.T) {
	const strong = "q7Vb0kX2mJ9TzR4uYcN1pW8sLhE6fGaD3oKiQvB5xZw="
	t.Run("ErrDatabaseURLRequired", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "pg")
		for _, command := range []string{"serve", "migrate", "seed"} {
			err := run(context.Background(), []string{"conduit", command}, env(map[string]string{
				"EMBEDDED_DATABASE": "false", "DATA_DIR": dataDir,
			}), &syncBuffer{})
			if err == nil || !strings.HasPrefix(err.Error(), "DATABASE_URL is required") || strings.Contains(err.Error(), "\n") {
				t.Errorf("conduit %s without DATABASE_URL = %v, want one line saying DATABASE_URL is required", command, err)
			}
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("DATA_DIR %s: %v; want no embedded cluster made", dataDir, err)
		}
		c, err := loadConfig(env(map[string]string{"EMBEDDED_DATABASE": "false", "DATABASE_URL": "postgres://db/conduit"}))
		if err != nil || !c.noEmbedded {
			t.Errorf("EMBEDDED_DATABASE=false with DATABASE_URL: %+v, %v; want it accepted", c, err)
		}
	})
	t.Run("JWTSecretFile", func(t *testing.T) {
		dir := t.TempDir()
		file := func(name, content string) string {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
		secret, weak, empty := file("secret", strong+"\n"), file("weak", "short\n"), file("empty", " \n")
		c, err := loadConfig(env(map[string]string{"CONDUIT_ENV": "production", "JWT_SECRET_FILE": secret}))
		if err != nil || c.jwtSecret != strong {
			t.Fatalf("JWT_SECRET_FILE: secret %q, %v; want the file's line", c.jwtSecret, err)
		}
		for name, vars := range map[string]map[string]string{
			"Weak":    {"CONDUIT_ENV": "production", "JWT_SECRET_FILE": weak},
			"Empty":   {"JWT_SECRET_FILE": empty},
			"Missing": {"JWT_SECRET_FILE": filepath.Join(dir, "none")},
			"Both":    {"JWT_SECRET_FILE": secret, "JWT_SECRET": strong},
		} {
			_, err := loadConfig(env(vars))
			if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
				t.Errorf("%s: loadConfig = %v, want a refusal naming JWT_SECRET", name, err)
			} else if strings.Contains(err.Error(), strong) {
				t.Errorf("%s: the refusal shows the secret: %v", name, err)
			}
		}
	})
}
