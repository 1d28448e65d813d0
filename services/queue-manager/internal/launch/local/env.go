package local

import "strings"

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
