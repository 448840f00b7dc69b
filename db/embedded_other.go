//go:build !unix

package db

import (
	"log/slog"
	"os"
	"syscall"
)

// On systems without unix sockets and process groups the embedded server
// runs as this process's account, and Stop can only ask it to stop.

func serverAccount() (*account, error) { return nil, nil }

func prepareDataDir(dir string, _ *account) error { return os.MkdirAll(dir, 0o700) }

func reachableDataDir(dir string, _ *account, _ *slog.Logger) (string, error) { return dir, nil }

func handOver(string, *account) error { return nil }

func serverProcAttr(*account) *syscall.SysProcAttr { return nil }

func postgresRunning(int) bool { return true }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
