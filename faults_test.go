package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/db"
	"github.com/conduit-dev/conduit/db/dbtest"
)

// faultTimeout is the request deadline of the servers under fault: short,
// so that the tests see the bound hold without waiting long.
const faultTimeout = time.Second

// postgresPID reads the postmaster's pid from its data directory.
func postgresPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// serverProcesses returns the postmaster pid and its children's pids, from
// /proc.
func serverProcesses(t *testing.T, pid int) []int {
	t.Helper()
	pids := []int{pid}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at its end.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			pids = append(pids, child)
		}
	}
	if len(pids) < 3 {
		t.Fatalf("postgres %d has %d processes, want its backends too", pid, len(pids))
	}
	return pids
}

// waitGone waits until process pid has exited.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 600 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("postgres %d did not exit", pid)
}

// status makes a request and returns its status and how long it took.
func status(t *testing.T, method, url, token, body string) (int, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), time.Since(start)
}

// restartableCluster returns a function that starts a private PostgreSQL
// cluster in a temporary directory, the same one each time it is called,
// so that a test can stop the cluster under a running server and start it
// again; and the cluster's data directory.
func restartableCluster(t *testing.T) (start func() *db.Embedded, pgDir string) {
	t.Helper()
	pgDir = filepath.Join(dbtest.ClusterDir(t), "pg")
	return func() *db.Embedded {
		t.Helper()
		emb, err := db.StartEmbedded(context.Background(), db.EmbeddedConfig{Dir: pgDir, Fast: true})
		if err != nil {
			t.Fatal(err)
		}
		return emb
	}, pgDir
}

// TestDatabaseFaults stops PostgreSQL under a running server, fast and
// immediately, and pauses it (SIGSTOP): while it is gone, requests fail
// within the request deadline with 503 in each surface's format, /readyz
// fails, and the outage is logged once; when it is back, service returns
// by itself within a few seconds.
func TestDatabaseFaults(t *testing.T) {
	start, pgDir := restartableCluster(t)
	emb := start()
	t.Cleanup(func() { _ = emb.Stop() })

	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conduit"}, env(map[string]string{
			"ADDR": "127.0.0.1:0", "DATABASE_URL": emb.URL(), "BCRYPT_COST": "4", "LOG_FORMAT": "json",
			"REQUEST_TIMEOUT": faultTimeout.String(), "JWT_SECRET": "faults-test-secret-q7Vb0kX2mJ9TzR4uYcN1pW8s",
		}), &out)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("server log:\n%s", out.String())
		}
	})
	base := waitListening(t, &out, done)
	var reg struct{ User struct{ Token string } }
	call(t, "POST", base+"/api/users", "", `{"user":{"username":"faulty","email":"faulty@example.com","password":"password1"}}`, 201, &reg)
	token := reg.User.Token

	// While the database is away, every API request fails within the
	// bound with 503, and the load balancer is told to look elsewhere.
	checkDown := func(t *testing.T) {
		t.Helper()
		bound := faultTimeout + time.Second
		for _, c := range []struct{ method, path, body, want string }{
			{"GET", "/api/articles", "", `"errors":{"body":["the service is temporarily unavailable; try again shortly"]}`},
			{"POST", "/api/articles", `{"article":{"title":"Lost","description":"d","body":"b"}}`, `"errors":{"body":["the service is temporarily unavailable; try again shortly"]}`},
			{"POST", "/graphql", `{"query":"{ articles { totalCount } }"}`, `"code":"SERVICE_UNAVAILABLE"`},
		} {
			code, body, took := status(t, c.method, base+c.path, token, c.body)
			wantStatus := http.StatusServiceUnavailable
			if c.path == "/graphql" {
				wantStatus = http.StatusOK // application/json: the error is in the body
			}
			if code != wantStatus || !strings.Contains(body, c.want) || took > bound {
				t.Errorf("%s %s while the database is down = %d %s after %v; want %d with %s within %v", c.method, c.path, code, body, took, wantStatus, c.want, bound)
			}
		}
		if code, _, took := status(t, "GET", base+"/readyz", "", ""); code != http.StatusServiceUnavailable || took > 3*time.Second {
			t.Errorf("/readyz while the database is down = %d after %v, want 503", code, took)
		}
		if code, _, _ := status(t, "GET", base+"/healthz", "", ""); code != http.StatusOK {
			t.Errorf("/healthz = %d, want 200: the process itself is fine", code)
		}
	}
	// Once it is back, service returns without a restart of the server.
	checkBack := func(t *testing.T) {
		t.Helper()
		back := time.Now()
		for {
			code, _, _ := status(t, "GET", base+"/api/articles", token, "")
			if code == http.StatusOK {
				break
			}
			if time.Since(back) > 5*time.Second {
				t.Fatalf("still %d 5 s after the database returned", code)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if code, _, _ := status(t, "GET", base+"/readyz", "", ""); code != http.StatusOK {
			t.Errorf("/readyz = %d after the database returned", code)
		}
		call(t, "POST", base+"/api/articles", token, `{"article":{"title":"Back `+t.Name()+`","description":"d","body":"b"}}`, 201, nil)
	}

	t.Run("StopFast", func(t *testing.T) {
		if err := emb.Stop(); err != nil { // SIGINT: pg_ctl stop -m fast
			t.Fatal(err)
		}
		checkDown(t)
		emb = start()
		checkBack(t)
	})
	t.Run("StopImmediate", func(t *testing.T) {
		pid := postgresPID(t, pgDir)
		if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil { // pg_ctl stop -m immediate
			t.Fatal(err)
		}
		waitGone(t, pid)
		checkDown(t)
		emb = start()
		checkBack(t)
	})
	t.Run("Paused", func(t *testing.T) {
		// The postmaster and every backend (each in a session of its own,
		// so not one process group): a server that hangs, not one that
		// refuses connections.
		pids := serverProcesses(t, postgresPID(t, pgDir))
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
		}
		resumed := false
		resume := func() {
			if !resumed {
				resumed = true
				for _, pid := range pids {
					_ = syscall.Kill(pid, syscall.SIGCONT)
				}
			}
		}
		defer resume()
		checkDown(t)
		resume()
		checkBack(t)
	})

	logs := out.String()
	if n := strings.Count(logs, "database unavailable: requests fail with 503"); n != 3 {
		t.Errorf("%d outage lines for three outages, want one each", n)
	}
	if n := strings.Count(logs, "database available again"); n < 3 {
		t.Errorf("%d recovery lines, want one per outage", n)
	}
	if n := strings.Count(logs, `"level":"ERROR"`); n != 3 {
		t.Errorf("%d ERROR lines, want only the three outages", n)
	}
}

// TestSIGTERMUnderWriteLoad sends SIGTERM to the real program while
// clients write: the server drains and exits cleanly, and every write
// that was acknowledged with a 2xx is in the database.
func TestSIGTERMUnderWriteLoad(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "conduit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := dbtest.NewURL(t)
	var out syncBuffer
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "DATABASE_URL="+url, "BCRYPT_COST=4", "LOG_FORMAT=json",
		"JWT_SECRET=sigterm-test-secret-q7Vb0kX2mJ9TzR4uYcN1pW8s", "RATE_LIMIT_REGISTER_PER_ADDRESS=off")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	base := waitListening(t, &out, exited)

	const writers = 16
	tokens := make([]string, writers)
	for i := range tokens {
		var reg struct{ User struct{ Token string } }
		call(t, "POST", base+"/api/users", "", fmt.Sprintf(`{"user":{"username":"w%d","email":"w%d@example.com","password":"password1"}}`, i, i), 201, &reg)
		tokens[i] = reg.User.Token
	}
	var mu sync.Mutex
	var acked []string // titles the server said it created
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range writers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				title := fmt.Sprintf("Load %d-%d", i, n)
				req, _ := http.NewRequest("POST", base+"/api/articles", strings.NewReader(`{"article":{"title":"`+title+`","description":"d","body":"b"}}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Token "+tokens[i])
				res, err := client.Do(req)
				if err != nil {
					continue // refused once the listener closed: not acknowledged
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusCreated {
					mu.Lock()
					acked = append(acked, title)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("server exited with %v after SIGTERM, want 0:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("server still running 30 s after SIGTERM:\n%s", out.String())
	}
	close(stop)
	wg.Wait()
	if len(acked) < writers {
		t.Fatalf("only %d writes acknowledged before SIGTERM; the load did not run", len(acked))
	}
	for _, title := range acked {
		if n := dbtest.QueryInt(t, url, `SELECT count(*) FROM articles WHERE title = $1`, title); n != 1 {
			t.Errorf("acknowledged article %q: %d rows, want 1", title, n)
		}
	}
	if !strings.Contains(out.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", out.String())
	}
	t.Logf("%d writes acknowledged, every one committed", len(acked))
}
