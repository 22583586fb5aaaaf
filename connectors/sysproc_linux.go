//go:build linux

package connectors

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel SIGKILL the plugin when Lethe dies, even by
// kill -9, where no deferred Close runs. Pdeathsig fires when the creating
// OS thread exits; the Go runtime keeps its threads for the process's life
// (we never start plugins from a LockOSThread goroutine), so in practice
// that is when Lethe exits.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
