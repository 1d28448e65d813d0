package protocol_test

import (
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestTimeRangeErrorsShowTheForms: every bad time range is answered with
// what is wrong and the accepted forms, each with an example.
func TestTimeRangeErrorsShowTheForms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2024-08-01/2024-09-01", `"2024-08-01/2024-09-01": two dates are separated by ':' (2024-08-01:2024-09-01)`},
		{"last month", `"last month" is not a time range`},
		{"2024-08-01T00:00:00Z/tomorrow", `end "tomorrow" is not an RFC 3339 time`},
		{"2024-13-01:2024-12-01", `start "2024-13-01" is not a date YYYY-MM-DD`},
		{"2024-09-01:2024-08-01", `"2024-09-01:2024-08-01" ends before it starts`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := protocol.ParseTimeRange(tt.in)
			if err == nil {
				t.Fatalf("ParseTimeRange(%q) succeeded", tt.in)
			}
			want := tt.want + "; " + protocol.TimeRangeForms
			if got := err.Error(); got != want {
				t.Errorf("error = %q\nwant    %q", got, want)
			}
			for _, ex := range []string{"2024-08-01:2024-09-01", "RFC 3339", "START:END", "START/END"} {
				if !strings.Contains(err.Error(), ex) {
					t.Errorf("error %q does not show %s", err, ex)
				}
			}
		})
	}
}
