package redact

import "testing"

func TestURLs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://user:pass@arango:8529", "http://user:*****@arango:8529"},
		{"http://root:p%40ss:w0rd@a:8529,https://root:other@b:8529/", "http://root:*****@a:8529,https://root:*****@b:8529/"},
		{"https://ghp_token123@github.com/x", "https://*****@github.com/x"},
		{`endpoint "tcp://u:secret@host:bad": invalid port`, `endpoint "tcp://u:*****@host:bad": invalid port`},
		{"http://arango:8529", "http://arango:8529"},
		{"http://arango:8529/path/user@example.com", "http://arango:8529/path/user@example.com"},
		{"mailto user@example.com", "mailto user@example.com"},
		{"", ""},
		{"./data/streamforge.db", "./data/streamforge.db"},
	} {
		if got := URLs(tc.in); got != tc.want {
			t.Errorf("URLs(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}
