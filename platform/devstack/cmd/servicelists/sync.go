package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// target is one generated file, or one marked region of a file (Region set).
//
// A region is the lines between
//
//	# BEGIN GENERATED <Region>: from libs/protocol/services.go by `make generate`, do not edit
//	# END GENERATED <Region>
//
// written at any indentation, as #, // or <!-- --> comments; Render's lines
// are indented like the begin marker.
type target struct {
	Path   string // from the repository root
	Region string
	Render func() string
}

const source = "libs/protocol/services.go"

// header is the notice a whole generated file starts with, as comment lines
// of prefix.
func header(prefix string) string {
	return prefix + " GENERATED from " + source + " by `make generate` (platform/devstack/cmd/servicelists);\n" +
		prefix + " make lint fails when it is stale: edit the table, not this file.\n"
}

func beginMarker(region string) string {
	return "BEGIN GENERATED " + region + ": from " + source + " by `make generate`, do not edit"
}

func endMarker(region string) string { return "END GENERATED " + region }

// comment returns the text of a comment line (#, // or <!-- -->), or ""
// for any other line.
func comment(line string) string {
	l := strings.TrimSpace(line)
	for _, c := range [][2]string{{"#", ""}, {"//", ""}, {"<!--", "-->"}} {
		if body, ok := strings.CutPrefix(l, c[0]); ok {
			if body, ok := strings.CutSuffix(body, c[1]); ok {
				return strings.TrimSpace(body)
			}
		}
	}
	return ""
}

// sync brings every target under root up to date (only in memory unless
// write is set) and returns the paths whose content differed, in target
// order.
func sync(root string, targets []target, write bool) ([]string, error) {
	orig := map[string]string{}  // path -> content on disk
	files := map[string]string{} // path -> content with the targets applied so far
	var order []string
	for _, t := range targets {
		cur := files[t.Path]
		if _, read := orig[t.Path]; !read {
			b, err := os.ReadFile(filepath.Join(root, t.Path))
			if err != nil && !(os.IsNotExist(err) && t.Region == "") {
				return nil, err
			}
			cur = string(b)
			orig[t.Path] = cur
			order = append(order, t.Path)
		}
		if t.Region == "" {
			files[t.Path] = t.Render()
			continue
		}
		next, err := replaceRegion(cur, t.Region, t.Render())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Path, err)
		}
		files[t.Path] = next
	}
	var stale []string
	for _, p := range order {
		if files[p] == orig[p] {
			continue
		}
		stale = append(stale, p)
		if write {
			if err := os.WriteFile(filepath.Join(root, p), []byte(files[p]), 0o644); err != nil {
				return nil, err
			}
		}
	}
	return stale, nil
}

// replaceRegion returns text with the lines between region's markers
// replaced by body, each line indented like the begin marker.
func replaceRegion(text, region, body string) (string, error) {
	lines := strings.SplitAfter(text, "\n")
	begin := slices.IndexFunc(lines, func(l string) bool { return comment(l) == beginMarker(region) })
	end := slices.IndexFunc(lines, func(l string) bool { return comment(l) == endMarker(region) })
	if begin < 0 || end < begin {
		return "", fmt.Errorf("%w %s: want the comment lines %q and %q", errNoRegion, region, "# "+beginMarker(region), "# "+endMarker(region))
	}
	indent := lines[begin][:len(lines[begin])-len(strings.TrimLeft(lines[begin], " \t"))]
	var b strings.Builder
	for _, l := range lines[:begin+1] {
		b.WriteString(l)
	}
	for l := range strings.Lines(body) {
		if strings.TrimSpace(l) != "" {
			b.WriteString(indent)
		}
		b.WriteString(l)
	}
	for _, l := range lines[end:] {
		b.WriteString(l)
	}
	return b.String(), nil
}
