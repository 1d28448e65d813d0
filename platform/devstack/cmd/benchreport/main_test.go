package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/streamforge/streamforge/libs/bus
cpu: Some CPU
BenchmarkProduce/baseline=kcat-2         	       3	 670102181 ns/op	    300000 msgs/s
BenchmarkProduce/bus/senders=1-2         	       3	 447264244 ns/op	    450000 msgs/s
pkg: github.com/streamforge/streamforge/libs/protocol
BenchmarkEventDecode/protocol-2          	   20000	      8000 ns/op	  32.92 MB/s	    1416 B/op	      16 allocs/op
BenchmarkEventDecode/baseline=encoding_json-2         	   20000	      4000 ns/op	  55.21 MB/s	     472 B/op	      11 allocs/op
BenchmarkCommandDecode-2                              	   20000	     12563 ns/op
pkg: github.com/streamforge/streamforge/services/arango-connector/test/e2e
BenchmarkConnector/baseline=raw-sqlite/records=1000-2         	       1	1000 ns/op	    200 records/s
BenchmarkConnector/connector/records=1000-2                   	       1	1000 ns/op	       160.7 peak-MiB	    100 records/s
BenchmarkConnector/baseline=raw-sqlite/records=5000-2         	       1	1000 ns/op	    100 records/s
BenchmarkConnector/connector/records=5000-2                   	       1	1000 ns/op	       158.9 peak-MiB	    150 records/s
`

func TestReportRatios(t *testing.T) {
	rs, ctx, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 9 || len(ctx) != 3 {
		t.Fatalf("parsed %d results and %d context lines, want 9 and 3", len(rs), len(ctx))
	}
	var out bytes.Buffer
	write(&out, "T", "", ctx, rs)
	got := out.String()
	for _, want := range []string{
		"## bus.Produce",
		"| bus/senders=1 | 450000 | 447264244 | 1.50× |", // throughput ratio
		"| baseline=kcat | 300000 | 670102181 | 1.00× |",
		"## protocol.EventDecode",
		"| protocol | 32.92 | 8000 | 1416 | 16 | 0.60× |", // MB/s ratio 32.92/55.21
		"## protocol.CommandDecode",
		"| connector/records=1000 | 100 | 1000 | 161 | 0.50× |", // against the 1000-record baseline
		"| connector/records=5000 | 150 | 1000 | 159 | 1.50× |", // against the 5000-record baseline
		"vs raw-sqlite |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
