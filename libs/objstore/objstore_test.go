package objstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/objstore"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key  string
		want string // "" for valid; else a fragment of the reason
	}{
		{"a", ""},
		{"models/gnn/v1/weights.bin", ""},
		{"a..b/...", ""},
		{"a/.hidden", ""},
		{"ключ/with spaces+%", ""},
		{strings.Repeat("k", objstore.MaxSegmentLen), ""},
		{"", "empty"},
		{"/etc/passwd", "absolute"},
		{"..", `".."`},
		{"a/../../b", `".."`},
		{"./a", `"."`},
		{`a\b`, "backslash"},
		{`..\..\win`, "backslash"},
		{"a//b", "empty segment"},
		{"a/", "empty segment"},
		{"a\x00b", "control character"},
		{"a\tb", "control character"},
		{"\xff", "UTF-8"},
		{".objstore/meta/x", "reserved"},
		{"a/.objstore-tmp-1", "reserved"},
		{strings.Repeat("k", objstore.MaxSegmentLen+1), "segment longer"},
		{strings.Repeat("k/", objstore.MaxKeyLen/2) + "k", "longer than 1024"},
	}
	for _, tt := range tests {
		err := objstore.ValidateKey(tt.key)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidateKey(%q) = %v, want nil", tt.key, err)
			}
			continue
		}
		if !errors.Is(err, objstore.ErrInvalidKey) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey saying %q", tt.key, err, tt.want)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b/", "a/b", "a/.hid"} {
		if err := objstore.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "../", "a/../", `a\`, ".objstore/"} {
		if err := objstore.ValidatePrefix(p); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
}
