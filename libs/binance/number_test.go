package binance

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendFloatMatchesStrconv checks the fast path against
// strconv.AppendFloat on exchange-like decimals and on arbitrary bits.
func TestAppendFloatMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(v float64) {
		t.Helper()
		got := string(appendFloat(nil, v))
		want := strconv.FormatFloat(v, 'f', -1, 64)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			want = "null"
		}
		if got != want {
			t.Fatalf("appendFloat(%v) = %s, want %s", v, got, want)
		}
	}
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.2, 0.3, 1e-8, 1.5e-7, 123456789012345, 1e15, 1e16,
		999999999999999, 0.000000000000001, 42123.45, 0.00012, 100, 1e300, 5e-324, math.MaxFloat64, math.NaN(), math.Inf(1)} {
		check(v)
		check(-v)
	}
	for range 200_000 {
		digits := 1 + r.IntN(17)
		n := r.Uint64N(uint64(math.Pow10(digits)))
		s := strconv.FormatUint(n, 10)
		frac := r.IntN(len(s) + 3)
		var dec string
		if frac >= len(s) {
			dec = "0." + string(make([]byte, 0)) + zeros(frac-len(s)) + s
		} else {
			dec = s[:len(s)-frac] + "." + s[len(s)-frac:]
		}
		v, err := strconv.ParseFloat(dec, 64)
		if err != nil {
			t.Fatal(err)
		}
		check(v)
		check(-v)
		check(math.Float64frombits(r.Uint64()))
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

// TestParseFastPathsMatchStrconv checks that the parse fast paths agree
// with strconv wherever they answer, and answer for archive-style numbers.
func TestParseFastPathsMatchStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []string{"", "-", ".", "-.", "1.", ".5", "-0", "0", "-0.0", "00012.5000", "1e5", "+1", "1_0", "0x10",
		"42123.45000000", "0.00000000", "123456789012345", "1234567890123456", "0.000000000000001", "1.0000000000000001",
		"9223372036854775807", "-9223372036854775808", "999999999999999999", "1-2", "--1", "NaN", "inf", "1.2.3"}
	for range 100_000 {
		n := strconv.FormatUint(r.Uint64N(1<<r.IntN(64)), 10)
		if f := r.IntN(len(n) + 2); f < len(n) {
			n = n[:f] + "." + n[f:]
		}
		if r.IntN(2) == 0 {
			n = "-" + n
		}
		cases = append(cases, n)
	}
	for _, s := range cases {
		if got, ok := parsePlainDecimal([]byte(s)); ok {
			want, err := strconv.ParseFloat(s, 64)
			if err != nil || math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("parsePlainDecimal(%q) = %v, strconv says %v, %v", s, got, want, err)
			}
		}
		if got, ok := parseSmallInt([]byte(s)); ok {
			want, err := strconv.ParseInt(s, 10, 64)
			if err != nil || got != want {
				t.Fatalf("parseSmallInt(%q) = %v, strconv says %v, %v", s, got, want, err)
			}
		}
	}
	for _, s := range []string{"42123.45000000", "0.00000000", "-1.5", "123456789012345", "7"} {
		if _, ok := parsePlainDecimal([]byte(s)); !ok {
			t.Errorf("parsePlainDecimal(%q) took the slow path", s)
		}
	}
	for _, s := range []string{"1709510400000", "-1", "0", "3498571234"} {
		if _, ok := parseSmallInt([]byte(s)); !ok {
			t.Errorf("parseSmallInt(%q) took the slow path", s)
		}
	}
}
