package demo

import "syscall"

// childAttr puts a child process in a process group of its own, so that a
// terminal's Ctrl-C (sent to the whole foreground group) reaches devstack
// alone, which ends its children in order; the child gets SIGTERM if
// devstack dies first.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
