package bus_test

import (
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// kafkaClient is the Kafka client libs/bus wraps. Only libs/bus may import
// it: everything else speaks bus.Message, so the client can change in one
// package.
const kafkaClient = "github.com/segmentio/kafka-go"

// TestOnlyBusImportsKafkaClient walks every Go file of the repository, tests
// included, and fails for each one outside libs/bus that imports the Kafka
// client or one of its packages.
func TestOnlyBusImportsKafkaClient(t *testing.T) {
	root := repoRoot(t)
	got, err := kafkaClientImporters(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		t.Errorf("%s imports %s: use libs/bus's types instead", f, kafkaClient)
	}
}

// TestKafkaClientImportersFindsOne: the walk sees an import outside
// libs/bus and ignores one inside, so the test above would fail.
func TestKafkaClientImportersFindsOne(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("libs/bus/consumer.go", "package bus\n\nimport \"github.com/segmentio/kafka-go\"\n")
	write("libs/bus/embedded/x_test.go", "package embedded\n\nimport _ \"github.com/segmentio/kafka-go/sasl\"\n")
	write("services/s/internal/sink/sink.go", "package sink\n\nimport (\n\tkafka \"github.com/segmentio/kafka-go\"\n)\n")
	write("services/s/internal/sink/sasl_test.go", "package sink\n\nimport \"github.com/segmentio/kafka-go/sasl/scram\"\n")
	write("libs/busy/busy.go", "package busy\n\nimport \"github.com/segmentio/kafka-go\"\n")
	write("libs/other/other.go", "package other\n\nimport \"github.com/segmentio/kafka-gopher\"\n")
	write("libs/other/testdata/x.go", "package x\n\nimport \"github.com/segmentio/kafka-go\"\n")

	got, err := kafkaClientImporters(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"libs/busy/busy.go", "services/s/internal/sink/sasl_test.go", "services/s/internal/sink/sink.go"}
	if !slices.Equal(got, want) {
		t.Errorf("importers = %q, want %q", got, want)
	}
}

// kafkaClientImporters returns the slash-separated paths, relative to root
// and sorted, of the Go files outside libs/bus that import the Kafka client.
// Hidden directories, testdata and vendor are skipped, as the go command
// skips them.
func kafkaClientImporters(root string) ([]string, error) {
	var found []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") ||
				rel == "libs/bus" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if p == kafkaClient || strings.HasPrefix(p, kafkaClient+"/") {
				found = append(found, rel)
				break
			}
		}
		return nil
	})
	slices.Sort(found)
	return found, err
}

// repoRoot is the directory above the working directory that holds go.work.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.work not found above the working directory")
		}
		dir = parent
	}
}
