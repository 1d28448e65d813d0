package local

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// serviceEnv reads dir/<service>.env: NAME=value lines, blank lines and
// lines starting with # skipped. A missing file (or dir "") is no
// variables.
func serviceEnv(dir, service string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	path := filepath.Join(dir, service+".env")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("LOCAL_SERVICE_ENV_DIR: %w", err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, _, ok := strings.Cut(line, "="); !ok || name == "" {
			return nil, fmt.Errorf("LOCAL_SERVICE_ENV_DIR: %s:%d: want NAME=value", path, n)
		}
		out = append(out, line)
	}
	return out, nil
}

// Inherit returns the entries of environ ("NAME=value") whose names pass
// names: a name matches itself, a pattern ending in "*" every name that
// starts with the rest.
func Inherit(environ, names []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if ok && passes(name, names) {
			out = append(out, kv)
		}
	}
	return out
}

func passes(name string, names []string) bool {
	for _, n := range names {
		if prefix, ok := strings.CutSuffix(n, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == n {
			return true
		}
	}
	return false
}
