package service

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestConfigTypeErrorsInPlainWords: a value of the wrong type is named with
// what the variable expects, in words and with an example, without Go's type
// names or the parser's internals.
func TestConfigTypeErrorsInPlainWords(t *testing.T) {
	type cfg struct {
		N     int64         `envconfig:"WORDS_N"`
		Rate  float64       `envconfig:"WORDS_RATE"`
		On    bool          `envconfig:"WORDS_ON"`
		Wait  time.Duration `envconfig:"WORDS_WAIT"`
		Sizes []int         `envconfig:"WORDS_SIZES"`
	}
	tests := []struct{ env, val, want string }{
		{"WORDS_N", "many", `WORDS_N: "many" is not a whole number (e.g. 10)`},
		{"WORDS_RATE", "fast", `WORDS_RATE: "fast" is not a number (e.g. 0.5)`},
		{"WORDS_ON", "yes please", `WORDS_ON: "yes please" is not true or false`},
		{"WORDS_WAIT", "10", `WORDS_WAIT: "10" is not a duration (a number with a unit: 500ms, 30s, 5m, 1h30m)`},
		{"WORDS_SIZES", "1,x", `WORDS_SIZES: "1,x" is not a comma-separated list, each a whole number (e.g. 10)`},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(tt.env, tt.val)
			err := load(&cfg{})
			if err == nil {
				t.Fatalf("%s=%q loaded", tt.env, tt.val)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBuildVersion: a version the build set wins; otherwise the binary says
// something other than nothing.
func TestBuildVersion(t *testing.T) {
	old := Version
	defer func() { Version = old }()
	Version = "v1.2.3"
	if got := BuildVersion(); got != "v1.2.3" {
		t.Errorf("BuildVersion() = %q with Version set, want v1.2.3", got)
	}
	Version = "dev"
	if got := BuildVersion(); got == "" {
		t.Error("BuildVersion() is empty")
	}
}

// TestLogWriterJSONOffATerminal: a file and /dev/null (a character device,
// not a terminal) get JSON lines.
func TestLogWriterJSONOffATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, w := range []*os.File{f, null} {
		if got := logWriter(w); got != io.Writer(w) {
			t.Errorf("%s gets %T, want the file itself (JSON lines)", w.Name(), got)
		}
	}
}

func TestVersionArg(t *testing.T) {
	var out strings.Builder
	if VersionArg([]string{"--queue-id", "x"}, "tool", &out) || out.Len() != 0 {
		t.Errorf("other arguments taken as --version: %q", out.String())
	}
	if !VersionArg([]string{"--version"}, "tool", &out) || !strings.HasPrefix(out.String(), "tool ") {
		t.Errorf("--version printed %q", out.String())
	}
}
