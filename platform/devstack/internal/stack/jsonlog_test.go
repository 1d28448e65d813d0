package stack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestJSONLinesWrapsEveryPlainLine(t *testing.T) {
	var out bytes.Buffer
	j := newJSONLines(&out)
	j.now = func() time.Time { return time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC) }
	for _, w := range []string{
		`{"level":"info","service":"queue-manager","message":"starting"}` + "\n",
		"loader-producer: configuration: SYMBOL: ", "is required\n", // one line in two writes
		"I1207 01:02:03.123456   42 reflector.go:1] watch started\n",
		"E1207 01:02:03.123456   42 leaderelection.go:1] lost lease\r\n",
		"\n",
		"{not json\n",
		"panic: boom",
	} {
		if _, err := j.Write([]byte(w)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		got = append(got, m)
	}
	at := "2026-12-07T01:02:03Z"
	want := []map[string]any{
		{"level": "info", "service": "queue-manager", "message": "starting"},
		{"time": at, "level": "info", "service": "loader-producer", "message": "loader-producer: configuration: SYMBOL: is required", "unstructured": true},
		{"time": at, "level": "info", "message": "I1207 01:02:03.123456   42 reflector.go:1] watch started", "unstructured": true},
		{"time": at, "level": "error", "message": "E1207 01:02:03.123456   42 leaderelection.go:1] lost lease", "unstructured": true},
		{"time": at, "level": "info", "message": "{not json", "unstructured": true},
		{"time": at, "level": "error", "message": "panic: boom", "unstructured": true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}
