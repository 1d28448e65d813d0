package binance

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// outcome is what a CSV reader delivered: every record with its time, and
// the error it ended with.
type outcome struct {
	recs []string
	err  string
}

func (o outcome) String() string {
	return fmt.Sprintf("%d records, error %q", len(o.recs), o.err)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// viaStructs reads a CSV the general way: parse into records, then AppendJSON.
func viaStructs(t *testing.T, kind string, csv []byte) outcome {
	t.Helper()
	var o outcome
	var err error
	switch kind {
	case "klines":
		err = ParseKlinesCSV(bytes.NewReader(csv), "BTCUSDT", mustInterval(t, "5m"), func(c Candle) error {
			o.recs = append(o.recs, strconv.FormatInt(c.OpenTime, 10)+" "+string(c.AppendJSON(nil)))
			return nil
		})
	default:
		err = ParseAggTradesCSV(bytes.NewReader(csv), "BTCUSDT", func(a AggTrade) error {
			o.recs = append(o.recs, strconv.FormatInt(a.Time, 10)+" "+string(a.AppendJSON(nil)))
			return nil
		})
	}
	o.err = errString(err)
	return o
}

// viaText reads the same CSV with the transcoders.
func viaText(t *testing.T, kind string, csv []byte) outcome {
	t.Helper()
	var o outcome
	fn := func(ts int64, rec []byte) error {
		o.recs = append(o.recs, strconv.FormatInt(ts, 10)+" "+string(rec))
		return nil
	}
	var err error
	switch kind {
	case "klines":
		err = KlinesCSVToJSON(bytes.NewReader(csv), "BTCUSDT", mustInterval(t, "5m"), fn)
	default:
		err = AggTradesCSVToJSON(bytes.NewReader(csv), "BTCUSDT", fn)
	}
	o.err = errString(err)
	return o
}

func sameOutcome(t *testing.T, kind, name string, csv []byte) outcome {
	t.Helper()
	want, got := viaStructs(t, kind, csv), viaText(t, kind, csv)
	if want.err != got.err {
		t.Fatalf("%s %s: transcoder error %q, parse+AppendJSON error %q", kind, name, got.err, want.err)
	}
	if len(want.recs) != len(got.recs) {
		t.Fatalf("%s %s: transcoder gave %s, parse+AppendJSON %s", kind, name, got, want)
	}
	for i := range want.recs {
		if want.recs[i] != got.recs[i] {
			t.Fatalf("%s %s: record %d\n transcoder:         %s\n parse+AppendJSON: %s", kind, name, i, got.recs[i], want.recs[i])
		}
	}
	return got
}

// TestCSVToJSONMatchesParseAndAppendOnRealFiles: on the recorded Binance
// archives (milliseconds and microseconds) the transcoder writes exactly
// the records parsing and AppendJSON write.
func TestCSVToJSONMatchesParseAndAppendOnRealFiles(t *testing.T) {
	for _, rel := range []string{"spot-klines-5m/BTCUSDT-5m-2024-08.csv", "spot-klines-5m/BTCUSDT-5m-2024-12.csv",
		"spot-klines-5m/BTCUSDT-5m-2025-01.csv"} {
		csv, err := io.ReadAll(openFixture(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		got := sameOutcome(t, "klines", rel, csv)
		if got.err != "" || len(got.recs) < 8000 {
			t.Fatalf("%s: %s", rel, got)
		}
	}
	got := sameOutcome(t, "aggTrades", "aggCSV", []byte(aggCSV))
	if got.err != "" || len(got.recs) != 2 {
		t.Fatalf("aggCSV: %s, want 2 records (the invalid row skipped)", got)
	}
}

// TestCSVToJSONMatchesParseAndAppendOnMutations: rows whose columns are
// replaced by odd numbers and by garbage give the same records, or the same
// error naming the same line and column, both ways.
func TestCSVToJSONMatchesParseAndAppendOnMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	kline := strings.Split("1722470400000,64628.01000000,64705.98000000,64601.00000000,64674.01000000,134.16525000,1722470699999,8674537.06641910,11714,57.81370000,3737985.72872000,0", ",")
	trade := strings.Split("3089543210,64628.01000000,0.00012000,3712345678,3712345680,1722470400123,True,True", ",")
	for i := range 20_000 {
		kind, row := "klines", append([]string(nil), kline...)
		if i%2 == 1 {
			kind, row = "aggTrades", append([]string(nil), trade...)
		}
		lines := make([]string, 1+r.IntN(3))
		for j := range lines {
			cols := append([]string(nil), row...)
			for range 1 + r.IntN(3) {
				cols[r.IntN(len(cols))] = randomNumberText(r)
			}
			if kind == "aggTrades" && r.IntN(8) == 0 {
				cols[1], cols[2], cols[3], cols[4] = "0", "0.00000000", "-1", "-1" // the placeholder, or nearly
				cols[r.IntN(5)] = randomNumberText(r)
			}
			lines[j] = strings.Join(cols, ",")
		}
		sameOutcome(t, kind, fmt.Sprintf("case %d", i), []byte(strings.Join(lines, "\n")+"\n"))
	}
}

// randomNumberText is a column value: mostly exchange-style decimals of any
// length, sometimes the odd forms strconv accepts or rejects.
func randomNumberText(r *rand.Rand) string {
	odd := []string{"", "-", ".", "1.", ".5", "-0", "0", "-0.0", "00012.5000", "1e5", "+1", "0x10", "NaN", "inf",
		"1.2.3", "True", "false", "x", "-1", "1722470400", "1735689600000456", "9223372036854775807",
		"99999999999999999999", "0.000000000000001", "0.0000000000000001", "1.0000000000000001", "123456789012345",
		"1234567890123456", "100000000000000000000", "-000.000"}
	if r.IntN(4) == 0 {
		return odd[r.IntN(len(odd))]
	}
	return randomDecimal(r)
}

// randomDecimal is a plain decimal of 1 to 20 digits with up to 20 of them
// after the point, zeros padded at either end now and then.
func randomDecimal(r *rand.Rand) string {
	digits := 1 + r.IntN(20)
	b := make([]byte, digits)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	s := string(b)
	if f := r.IntN(digits + 3); f > 0 {
		if f >= len(s) {
			s = strings.Repeat("0", f-len(s)+1) + s
		}
		s = s[:len(s)-f] + "." + s[len(s)-f:]
		s += strings.Repeat("0", r.IntN(3))
	}
	if r.IntN(3) == 0 {
		s = "-" + s
	}
	return s
}

// TestAppendDecimalTextMatchesAppendFloat: wherever the text path answers,
// it writes what parsing the text and appendFloat write; and it answers for
// what exchanges send.
func TestAppendDecimalTextMatchesAppendFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	answered := 0
	for i := range 500_000 {
		s := randomDecimal(r)
		if i%5 == 0 {
			s = randomNumberText(r)
		}
		got, ok := appendDecimalText([]byte("x"), []byte(s))
		if !ok {
			if string(got) != "x" {
				t.Fatalf("appendDecimalText(%q) declined but wrote %q", s, got)
			}
			continue
		}
		answered++
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(v, 0) {
			t.Fatalf("appendDecimalText(%q) answered %q for text strconv rejects: %v", s, got, err)
		}
		if want := "x" + string(appendFloat(nil, v)); string(got) != want {
			t.Fatalf("appendDecimalText(%q) = %q, appendFloat(ParseFloat) = %q", s, got[1:], want[1:])
		}
	}
	if answered < 200_000 {
		t.Errorf("the text path answered %d of 500,000 times", answered)
	}
	for s, want := range map[string]string{"64628.01000000": "64628.01", "0.00012000": "0.00012", "0.00000000": "0",
		"-0.0": "-0", "134.16525": "134.16525", "0012.3400": "12.34", "5.000": "5", "8674537.06641910": "8674537.0664191",
		"123456789012345": "123456789012345", "0.000000000000001": "0.000000000000001"} {
		got, ok := appendDecimalText(nil, []byte(s))
		if !ok || string(got) != want {
			t.Errorf("appendDecimalText(%q) = %q, %v; want %q from the text path", s, got, ok, want)
		}
	}
}

// FuzzAppendDecimalText: for any input, the text path either declines or
// writes what appendFloat writes for the parsed value.
func FuzzAppendDecimalText(f *testing.F) {
	for _, s := range []string{"64628.01000000", "0", "-0.0", "1e5", ".5", "1.", "0012.3400", "1234567890123456", "0.0000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := appendDecimalText(nil, []byte(s))
		if !ok {
			return
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("appendDecimalText(%q) answered %q for text strconv rejects: %v", s, got, err)
		}
		if want := string(appendFloat(nil, v)); string(got) != want {
			t.Fatalf("appendDecimalText(%q) = %q, appendFloat(ParseFloat) = %q", s, got, want)
		}
	})
}
