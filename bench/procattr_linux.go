package main

import "syscall"

// childProcAttr makes a server die with the benchmark, however it ends.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
