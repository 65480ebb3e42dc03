package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigLayers(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "rewind.yaml")
	if err := os.WriteFile(yml, []byte("data-dir: /from/yaml\nhttp-addr: 127.0.0.1:9000\nretention: 2h\nlog-level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{"defaults", nil, nil, func(t *testing.T, c *Config) {
			if c.DataDir != "./data" || c.HTTPAddr != "127.0.0.1:8080" || c.RTSPAddr != "127.0.0.1:8554" ||
				!c.AutoProvision || c.Retention != 24*time.Hour {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{"yaml over defaults", []string{"--config", yml}, nil, func(t *testing.T, c *Config) {
			if c.DataDir != "/from/yaml" || c.HTTPAddr != "127.0.0.1:9000" || c.Retention != 2*time.Hour || c.LogLevel != "debug" {
				t.Errorf("yaml: %+v", c)
			}
		}},
		{"env over yaml", []string{"--config", yml}, map[string]string{"REWIND_DATA_DIR": "/from/env", "REWIND_RETENTION": "3600"},
			func(t *testing.T, c *Config) {
				if c.DataDir != "/from/env" || c.Retention != time.Hour || c.HTTPAddr != "127.0.0.1:9000" {
					t.Errorf("env: %+v", c)
				}
			}},
		{"flags over env", []string{"--config", yml, "--data-dir", "/from/flag", "--http-addr", "127.0.0.1:0"},
			map[string]string{"REWIND_DATA_DIR": "/from/env"}, func(t *testing.T, c *Config) {
				if c.DataDir != "/from/flag" || c.HTTPAddr != "127.0.0.1:0" {
					t.Errorf("flags: %+v", c)
				}
			}},
		{"config file from env", nil, map[string]string{"REWIND_CONFIG": yml}, func(t *testing.T, c *Config) {
			if c.DataDir != "/from/yaml" {
				t.Errorf("REWIND_CONFIG: %+v", c)
			}
		}},
		{"udp off", []string{"--rtsp-udp-rtp-addr", "", "--rtsp-udp-rtcp-addr", ""}, nil, func(t *testing.T, c *Config) {
			if c.RTSPUDPRTP != "" || c.RTSPUDPRTCP != "" {
				t.Errorf("udp: %+v", c)
			}
		}},
		{"insecure non-loopback", []string{"--http-addr", "0.0.0.0:8080", "--insecure"}, nil, func(t *testing.T, c *Config) {
			if c.HTTPAddr != "0.0.0.0:8080" {
				t.Errorf("insecure: %+v", c)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(tc.args, envOf(tc.env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestConfigErrorsQuoteTheKey(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("retention: forever\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknown, []byte("colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad address", []string{"--http-addr", "nonsense"}, nil, `setting "http-addr": want host:port, got "nonsense"`},
		{"non-loopback without credentials", []string{"--http-addr", "0.0.0.0:8080"}, nil, `setting "http-addr": "0.0.0.0:8080" is not a loopback address`},
		{"bad yaml value", []string{"--config", badYAML}, nil, `key "retention": want a duration`},
		{"unknown yaml key", []string{"--config", unknown}, nil, `unknown key "colour"`},
		{"bad env", nil, map[string]string{"REWIND_AUTO_PROVISION": "maybe"}, `environment REWIND_AUTO_PROVISION: want true or false`},
		{"bad log level", []string{"--log-level", "loud"}, nil, `setting "log-level"`},
		{"odd udp port", []string{"--rtsp-udp-rtp-addr", "127.0.0.1:8001", "--rtsp-udp-rtcp-addr", "127.0.0.1:8002"}, nil, `setting "rtsp-udp-rtp-addr"`},
		{"udp half set", []string{"--rtsp-udp-rtcp-addr", ""}, nil, `setting "rtsp-udp-rtcp-addr"`},
		{"short retention", []string{"--retention", "10s"}, nil, `setting "retention": must be at least 1m`},
		{"missing config file", []string{"--config", filepath.Join(dir, "nope.yaml")}, nil, "no such file"},
		{"stray argument", []string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(tc.args, envOf(tc.env), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRunCLI(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{nil, 2, "", "Usage:"},
		{[]string{"version"}, 0, "rewind dev", ""},
		{[]string{"help"}, 0, "rewind serve", ""},
		{[]string{"bogus"}, 2, "", `unknown command "bogus"`},
		{[]string{"serve", "--help"}, 0, "", "-data-dir"},
		{[]string{"serve", "--http-addr", "x"}, 2, "", `setting "http-addr"`},
		{[]string{"index"}, 2, "", "rewind index rebuild --data-dir DIR"},
		{[]string{"index", "rebuild", "--help"}, 0, "", "lost+found"},
		{[]string{"index", "rebuild", "--data-dir", "/nonexistent"}, 1, "", "is not a Rewind data folder"},
		{[]string{"index", "rebuild", "--data-dir", emptyDataDir(t)}, 0, "rebuilt the index of", ""},
	}
	for _, tc := range cases {
		var out, errw bytes.Buffer
		code := run(context.Background(), tc.args, envOf(nil), &out, &errw)
		if code != tc.code || !strings.Contains(out.String(), tc.inStdout) || !strings.Contains(errw.String(), tc.inStderr) {
			t.Errorf("run %q = %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out.String(), errw.String(), tc.code, tc.inStdout, tc.inStderr)
		}
	}
}

func TestHelpDocumentsEverySetting(t *testing.T) {
	var errw bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--help"}, envOf(nil), &bytes.Buffer{}, &errw); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var c Config
	for _, s := range c.settings() {
		if !strings.Contains(errw.String(), "-"+s.key) || !strings.Contains(errw.String(), envName(s.key)) {
			t.Errorf("--help does not document %s / %s", s.key, envName(s.key))
		}
	}
}

// TestServeStartsAndStops runs the whole server in-process on port 0 and
// stops it through the context, as SIGTERM would.
func TestServeStartsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0", "--rtsp-addr", "127.0.0.1:0",
			"--rtsp-udp-rtp-addr", "", "--rtsp-udp-rtcp-addr", ""}, envOf(nil), &bytes.Buffer{}, &logs)
	}()
	time.Sleep(500 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// emptyDataDir is a data folder with an empty media folder.
func emptyDataDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
