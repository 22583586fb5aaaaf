package sdk

import "runtime/debug"

// Version returns the version a connector should report in Info.Version:
// stamped, when the build set it (go build -ldflags "-X main.version=1.4.2"
// and pass main.version here); otherwise the main module's version when the
// binary was built with `go install module@version`; otherwise the VCS
// revision the build recorded; "dev" only when nothing is known.
func Version(stamped string) string {
	if stamped != "" && stamped != "dev" {
		return stamped
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		return rev + dirty
	}
	return "dev"
}
