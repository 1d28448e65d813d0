package objstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/objstore"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want string // "" for valid; else a fragment of the reason
	}{
		{"one letter", "a", ""},
		{"nested path", "models/gnn/v1/weights.bin", ""},
		{"dots inside segments", "a..b/...", ""},
		{"hidden segment", "a/.hidden", ""},
		{"unicode, spaces and symbols", "ключ/with spaces+%", ""},
		{"longest segment", strings.Repeat("k", objstore.MaxSegmentLen), ""},
		{"empty", "", "empty"},
		{"absolute", "/etc/passwd", "absolute"},
		{"dot-dot", "..", `".."`},
		{"dot-dot inside", "a/../../b", `".."`},
		{"dot segment", "./a", `"."`},
		{"backslash", `a\b`, "backslash"},
		{"windows dot-dot", `..\..\win`, "backslash"},
		{"double slash", "a//b", "empty segment"},
		{"trailing slash", "a/", "empty segment"},
		{"NUL", "a\x00b", "control character"},
		{"tab", "a\tb", "control character"},
		{"invalid UTF-8", "\xff", "UTF-8"},
		{"reserved meta directory", ".objstore/meta/x", "reserved"},
		{"reserved temporary file", "a/.objstore-tmp-1", "reserved"},
		{"segment too long", strings.Repeat("k", objstore.MaxSegmentLen+1), "segment longer"},
		{"key too long", strings.Repeat("k/", objstore.MaxKeyLen/2) + "k", "longer than 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := objstore.ValidateKey(tt.key)
			if tt.want == "" {
				if err != nil {
					t.Errorf("ValidateKey(%q) = %v, want nil", tt.key, err)
				}
				return
			}
			if !errors.Is(err, objstore.ErrInvalidKey) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey saying %q", tt.key, err, tt.want)
			}
		})
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
