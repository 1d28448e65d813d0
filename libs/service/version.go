package service

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// BuildVersion returns the build's version: Version when the build set it
// (-ldflags -X, as the Makefile and services/Dockerfile do), else the main
// module's version from the build information (go install ...@v1.2.3), else
// the VCS revision the binary was built from (with "-dirty" for uncommitted
// changes), else "dev".
func BuildVersion() string {
	if Version != "dev" && Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "dev"
	}
	return rev[:min(12, len(rev))] + dirty
}

// VersionFlag adds --version to fs; when the returned flag is set after
// parsing, the program prints PrintVersion and exits 0.
func VersionFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("version", false, "print the version and exit")
}

// PrintVersion writes "<name> <version> (<go version>)" on one line.
func PrintVersion(w io.Writer, name string) {
	fmt.Fprintf(w, "%s %s (%s)\n", name, BuildVersion(), runtime.Version())
}

// VersionArg handles a command whose only argument is --version (or
// -version) for programs that do not run on Main: it prints PrintVersion
// to w and reports true, and the program exits 0.
func VersionArg(args []string, name string, w io.Writer) bool {
	if len(args) != 1 || (args[0] != "--version" && args[0] != "-version") {
		return false
	}
	PrintVersion(w, name)
	return true
}
