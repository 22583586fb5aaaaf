//go:build !linux

package connectors

import "os/exec"

// setDeathSignal has no portable equivalent outside Linux; there Lethe
// relies on Close (and go-plugin's own cleanup) to end its plugins.
func setDeathSignal(*exec.Cmd) {}
