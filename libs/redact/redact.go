// Package redact masks the credentials a setting may carry inside a URL
// (ARANGO_URL=http://user:pass@host:8529, say) before it reaches a log or an
// error message.
package redact

import (
	"regexp"
)

// Mask replaces a masked password.
const Mask = "*****"

// userinfo matches scheme://user:password@ (and scheme://token@, a secret
// too): what comes between the scheme and the @ of the authority. The
// authority ends at the first /, ?, # or a separator such as a comma or a
// space, so a later @ in a path is not taken for one.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^/?#@\s,"']*)@`)

// URLs returns s with the credentials of every URL in it masked: the
// password of user:password@ (the user stays, to tell settings apart), a
// lone user name (often a token) entirely. s may hold several URLs
// (comma-separated, or in a sentence).
func URLs(s string) string {
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfo.FindStringSubmatch(m)
		scheme, info := sub[1], sub[2]
		for i := 0; i < len(info); i++ {
			if info[i] == ':' {
				return scheme + info[:i] + ":" + Mask + "@"
			}
		}
		return scheme + Mask + "@"
	})
}
