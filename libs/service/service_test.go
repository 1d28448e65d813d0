package service_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/testkit"
)

type testConfig struct {
	service.Common
	Brokers  string `envconfig:"TEST_BROKERS" required:"true" desc:"brokers"`
	Password string `envconfig:"TEST_PASSWORD" desc:"a secret"`
	Limit    int    `envconfig:"TEST_LIMIT" default:"10" desc:"a limit"`
}

func (c *testConfig) Validate() error {
	if c.Limit < 1 {
		return errors.New("TEST_LIMIT: must be at least 1")
	}
	return nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestMainServesAndShutsDown(t *testing.T) {
	t.Setenv("HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("TEST_BROKERS", "k:9092")
	t.Setenv("TEST_PASSWORD", "hunter2")
	var stderr testkit.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	checked := make(chan struct{})
	code := make(chan int, 1)
	var cfg testConfig
	go func() {
		code <- service.Main(ctx, service.Options{Name: "svc", Config: &cfg, Stderr: &stderr, Stdout: io.Discard},
			func(ctx context.Context, rt *service.Runtime) error {
				base := "http://" + rt.Addr().String()
				if c, _ := get(t, base+"/readyz"); c != http.StatusServiceUnavailable {
					t.Errorf("/readyz before ready = %d, want 503", c)
				}
				rt.SetReady(true)
				if c, _ := get(t, base+"/readyz"); c != http.StatusOK {
					t.Errorf("/readyz when ready = %d, want 200", c)
				}
				var down atomic.Bool
				rt.SetReadyCheck(func() error {
					if down.Load() {
						return errors.New("store unavailable")
					}
					return nil
				})
				down.Store(true)
				if c, body := get(t, base+"/readyz"); c != http.StatusServiceUnavailable || !strings.Contains(body, "store unavailable") {
					t.Errorf("/readyz while the check fails = %d %q, want 503 naming the cause", c, body)
				}
				down.Store(false)
				if c, _ := get(t, base+"/readyz"); c != http.StatusOK {
					t.Errorf("/readyz once the check passes = %d, want 200", c)
				}
				if c, _ := get(t, base+"/healthz"); c != http.StatusOK {
					t.Errorf("/healthz = %d", c)
				}
				c, body := get(t, base+"/metrics")
				if c != http.StatusOK || !strings.Contains(body, `streamforge_build_info{service="svc"`) || !strings.Contains(body, "go_goroutines") {
					t.Errorf("/metrics = %d without build info or Go metrics:\n%.300s", c, body)
				}
				close(checked)
				<-ctx.Done()
				return nil
			})
	}()
	select {
	case <-checked:
	case <-time.After(10 * time.Second):
		t.Fatal("service did not start")
	}
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", c, stderr.String())
	}
	if cfg.Limit != 10 || cfg.Brokers != "k:9092" {
		t.Errorf("config = %+v, want defaults and env applied", cfg)
	}
	logs := stderr.String()
	if strings.Contains(logs, "hunter2") {
		t.Errorf("the password was logged:\n%s", logs)
	}
	if !strings.Contains(logs, `"TEST_PASSWORD":"*****"`) || !strings.Contains(logs, `"message":"starting"`) {
		t.Errorf("effective config not logged with the secret masked:\n%s", logs)
	}
}

func TestMainConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name, env, val, want string
	}{
		{"missing required", "", "", "TEST_BROKERS"},
		{"bad number", "TEST_LIMIT", "many", "TEST_LIMIT"},
		{"custom validation", "TEST_LIMIT", "0", "TEST_LIMIT: must be at least 1"},
		{"common validation", "LOG_LEVEL", "loud", "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "missing required" {
				t.Setenv("TEST_BROKERS", "k:9092")
			}
			if tt.env != "" {
				t.Setenv(tt.env, tt.val)
			}
			var stderr bytes.Buffer
			ran := false
			code := service.Main(context.Background(), service.Options{Name: "svc", Config: &testConfig{}, Stderr: &stderr},
				func(context.Context, *service.Runtime) error { ran = true; return nil })
			if code != 2 || ran {
				t.Fatalf("exit %d (ran=%v), want 2 without running", code, ran)
			}
			line := strings.TrimSpace(stderr.String())
			if strings.Count(line, "\n") != 0 || !strings.Contains(line, tt.want) {
				t.Errorf("stderr = %q, want one line naming %q", line, tt.want)
			}
		})
	}
}

func TestMainReportsEveryConfigError(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "three variables that do not parse",
			env:  map[string]string{"TEST_LIMIT": "many", "SHUTDOWN_TIMEOUT": "soon"},
			want: []string{"TEST_BROKERS: is required", "TEST_LIMIT: ", "SHUTDOWN_TIMEOUT: "},
		},
		{
			name: "three variables that do not validate",
			env:  map[string]string{"TEST_BROKERS": "k:9092", "TEST_LIMIT": "0", "LOG_LEVEL": "loud", "SHUTDOWN_TIMEOUT": "0s"},
			want: []string{"TEST_LIMIT: must be at least 1", "LOG_LEVEL: ", "SHUTDOWN_TIMEOUT: must be positive"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			code := service.Main(context.Background(), service.Options{Name: "svc", Config: &testConfig{}, Stderr: &stderr},
				func(context.Context, *service.Runtime) error { return nil })
			if code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d lines, want %d:\n%s", len(lines), len(tt.want), stderr.String())
			}
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || strings.HasPrefix(l, "svc: configuration: "+w)
				}
				if !found {
					t.Errorf("no line starts with %q:\n%s", "svc: configuration: "+w, stderr.String())
				}
			}
		})
	}
}

func TestHelpListsFlagsAndEveryVariable(t *testing.T) {
	var stdout bytes.Buffer
	fs := flag.NewFlagSet("svc", flag.ContinueOnError)
	fs.Bool("simulate-loading", false, "pretend to load")
	code := service.Main(context.Background(), service.Options{Name: "svc", Summary: "test service", Config: &testConfig{}, Flags: fs, Args: []string{"--help"}, Stdout: &stdout, Stderr: io.Discard},
		func(context.Context, *service.Runtime) error { t.Error("ran on --help"); return nil })
	if code != 0 {
		t.Fatalf("exit %d on --help", code)
	}
	for _, want := range []string{"simulate-loading", "HTTP_ADDR", "LOG_LEVEL", "SHUTDOWN_TIMEOUT", "TEST_BROKERS", "TEST_PASSWORD", "TEST_LIMIT"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--help does not mention %s:\n%s", want, stdout.String())
		}
	}
}

func TestRunErrorSetsExitCode(t *testing.T) {
	t.Setenv("TEST_BROKERS", "k:9092")
	t.Setenv("HTTP_ADDR", "127.0.0.1:0")
	var stderr bytes.Buffer
	code := service.Main(context.Background(), service.Options{Name: "svc", Config: &testConfig{}, Stderr: &stderr},
		func(context.Context, *service.Runtime) error {
			return &service.ExitError{Code: 3, Err: errors.New("binance banned this IP")}
		})
	if code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	if !strings.Contains(stderr.String(), "svc: binance banned this IP\n") {
		t.Errorf("stderr lacks the plain error line:\n%s", stderr.String())
	}
}

func TestVersionFlag(t *testing.T) {
	var stdout bytes.Buffer
	code := service.Main(context.Background(), service.Options{Name: "svc", Config: &testConfig{}, Args: []string{"--version"}, Stdout: &stdout, Stderr: io.Discard},
		func(context.Context, *service.Runtime) error { t.Error("ran on --version"); return nil })
	if code != 0 {
		t.Fatalf("exit %d on --version, want 0", code)
	}
	if got, want := stdout.String(), "svc "+service.BuildVersion()+" "; !strings.HasPrefix(got, want) {
		t.Errorf("--version printed %q, want it to start with %q", got, want)
	}
}
