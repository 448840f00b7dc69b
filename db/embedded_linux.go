package db

import "syscall"

// serverProcAttr runs the server as acct in its own process group, so that
// a Ctrl-C at the terminal does not stop it before the caller has drained.
// Pdeathsig asks for a fast shutdown should the caller die without calling
// Stop.
func serverProcAttr(acct *account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT, Credential: acct.credential()}
}
