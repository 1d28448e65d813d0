package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/streamforge/streamforge/libs/protocol"
)

const repoRoot = "../../../.."

// TestGeneratedFilesCurrent: every generated file and region in the
// repository is what the services table gives.
func TestGeneratedFilesCurrent(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"-check", "-root", repoRoot}, &bytes.Buffer{}, &stderr); code != 0 {
		t.Errorf("servicelists -check exit %d, want 0 (run make generate):\n%s", code, stderr.String())
	}
}

// TestCheckCatchesHandEdits edits each generated copy by hand in a copy of
// the repository's files and wants -check to name that file, and a rewrite
// to restore it.
func TestCheckCatchesHandEdits(t *testing.T) {
	edits := map[string]func(string) string{
		// A service added to one copy only.
		"platform/strimzi/kafka-users.yaml": func(s string) string {
			return s + "---\napiVersion: kafka.strimzi.io/v1\nkind: KafkaUser\nmetadata:\n  name: streamforge-new-worker\n"
		},
		// A right widened in the documentation only.
		"platform/strimzi/README.md": func(s string) string {
			return strings.Replace(s, "| graph-builder | read | write | — |", "| graph-builder | read | write | read |", 1)
		},
		// A service dropped from one copy only.
		"platform/strimzi/copy-kafka-secrets.sh": func(s string) string { return strings.Replace(s, "    gnn-trainer\n", "", 1) },
		"platform/rbac/ci-deployer.yaml": func(s string) string {
			return strings.Replace(s, "      - streamforge-dummy-service\n", "", 1)
		},
		// A service renamed in one region only.
		"deploy/components/secrets-vault/secretproviderclass.yaml": func(s string) string {
			return strings.Replace(s, "secretName: streamforge-kafka-graph-builder", "secretName: streamforge-kafka-graph-maker", 1)
		},
		".gitlab/ci-templates/services.yml": func(s string) string { return strings.Replace(s, "          - gnn-trainer\n", "", 1) },
	}
	for _, tg := range targets {
		if edits[tg.Path] == nil {
			t.Errorf("%s: no hand edit tried on this target", tg.Path)
		}
	}
	for path, edit := range edits {
		t.Run(filepath.Base(path), func(t *testing.T) {
			root := t.TempDir()
			for _, tg := range targets {
				copyFile(t, filepath.Join(repoRoot, tg.Path), filepath.Join(root, tg.Path))
			}
			orig := readFile(t, filepath.Join(root, path))
			edited := edit(orig)
			if edited == orig {
				t.Fatal("the edit changed nothing")
			}
			if err := os.WriteFile(filepath.Join(root, path), []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			if code := run([]string{"-check", "-root", root}, &bytes.Buffer{}, &stderr); code != 1 || !strings.Contains(stderr.String(), path) {
				t.Fatalf("-check after a hand edit: exit %d, stderr %q; want exit 1 naming %s", code, stderr.String(), path)
			}
			if code := run([]string{"-root", root}, &bytes.Buffer{}, &stderr); code != 0 {
				t.Fatalf("rewrite: exit %d: %s", code, stderr.String())
			}
			if got := readFile(t, filepath.Join(root, path)); got != orig {
				t.Errorf("rewrite did not restore the file (-want +got):\n%s", cmp.Diff(orig, got))
			}
		})
	}
}

// TestMissingMarkers: a region whose markers were deleted is an error
// naming the file, not a silent skip.
func TestMissingMarkers(t *testing.T) {
	root := t.TempDir()
	path := "platform/rbac/ci-deployer.yaml"
	if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, path), []byte("kind: Role\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := sync(root, []target{{Path: path, Region: "kafka-user-secrets", Render: deployerSecretNames}}, false)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("sync without markers: %v, want an error naming %s", err, path)
	}
}

// TestGoWorkUsesEveryModule: go.work stays hand-kept for the Go tooling,
// but its use list must be libs, platform/devstack and each service with a
// module of its own in the table.
func TestGoWorkUsesEveryModule(t *testing.T) {
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^\s+\./(\S+)$`).FindAllStringSubmatch(readFile(t, filepath.Join(repoRoot, "go.work")), -1) {
		got = append(got, m[1])
	}
	want := []string{"libs", "platform/devstack"}
	for _, s := range protocol.Services {
		if s.OwnModule() {
			want = append(want, "services/"+s.Name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("go.work use list against the services table (-want +got):\n%s", d)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, []byte(readFile(t, from)), 0o644); err != nil {
		t.Fatal(err)
	}
}
