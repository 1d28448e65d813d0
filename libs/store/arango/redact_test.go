package arango

import (
	"strings"
	"testing"
)

// A bad ARANGO_URL is reported without its password.
func TestEndpointErrorsHideThePassword(t *testing.T) {
	for _, raw := range []string{"http://root:hunter2@arango:bad-port", "ftp://root:hunter2@arango:8529", "http://root:hunter2@arango:8529,http://root:hunter2@%zz"} {
		_, err := parseEndpoints(raw, false)
		if err == nil {
			t.Fatalf("parseEndpoints(%q): no error", raw)
		}
		if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "ARANGO_URL") {
			t.Errorf("parseEndpoints(%q): %v", raw, err)
		}
	}
}
