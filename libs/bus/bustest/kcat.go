package bustest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
)

// Kcat is kcat, the benchmarks' baseline producer (librdkafka), with its
// input prepared outside the timed part.
type Kcat struct {
	exe, file string
	cfg       bus.Config
}

// NewKcat writes msgs as kcat's key<TAB>value lines to a file and returns a
// runner; it fails the benchmark when kcat is not installed.
func NewKcat(tb testing.TB, cfg bus.Config, msgs []bus.Message) *Kcat {
	tb.Helper()
	exe, err := exec.LookPath("kcat")
	if err != nil {
		tb.Fatal("kcat is not installed (Debian package kcat): it is the baseline")
	}
	var in bytes.Buffer
	for _, m := range msgs {
		in.Write(m.Key)
		in.WriteByte('\t')
		in.Write(m.Value)
		in.WriteByte('\n')
	}
	file := filepath.Join(tb.TempDir(), "records.tsv")
	if err := os.WriteFile(file, in.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return &Kcat{exe: exe, file: file, cfg: cfg}
}

// Produce sends the records to topic with the guarantees StreamForge's
// producer gives (acks=all, murmur2 key partitioning, 5 ms linger), over
// PLAINTEXT: Debian's kcat cannot log in with SCRAM to Kafka 4.x.
func (k *Kcat) Produce(tb testing.TB, topic string) {
	tb.Helper()
	cmd := exec.Command(k.exe, "-P", "-b", k.cfg.BootstrapServers, "-t", topic, "-K", "\t", "-l", k.file,
		"-X", "acks=all", "-X", "linger.ms=5", "-X", "partitioner=murmur2_random")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("kcat: %v\n%s", err, out)
	}
}
