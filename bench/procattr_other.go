//go:build !linux

package main

import "syscall"

// childProcAttr asks for nothing special where the parent's death cannot be signalled.
func childProcAttr() *syscall.SysProcAttr { return nil }
