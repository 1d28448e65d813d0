package connector

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestTopicWaitLoggedOnceThenPeriodically(t *testing.T) {
	var out bytes.Buffer
	tell := topicWaitLogger(zerolog.New(&out))
	for n := 1; n <= 5; n++ {
		tell([]string{"wf-x-data"}, n, time.Second)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"missing":["wf-x-data"]`) || !strings.Contains(lines[0], "waiting for the data topic") {
		t.Errorf("logged %q, want one line naming the missing topic", out.String())
	}
}
