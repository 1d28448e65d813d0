package smoke

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryServiceAnswersVersion: `<service> --version` prints its name and
// version on one line and exits 0, without any configuration.
func TestEveryServiceAnswersVersion(t *testing.T) {
	for _, s := range services {
		t.Run(s, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(binDir, s), "--version")
			cmd.Env = []string{} // no KAFKA_BOOTSTRAP_SERVERS or anything else
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s --version: %v", s, err)
			}
			if got := string(out); !strings.HasPrefix(got, s+" ") || strings.Count(got, "\n") != 1 {
				t.Errorf("%s --version printed %q, want one line starting with %q", s, got, s+" ")
			}
		})
	}
}
