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
				!c.AutoProvision || c.Retention != 24*time.Hour || !c.Demo {
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
		{"demo off by flag", []string{"--demo=false"}, nil, func(t *testing.T, c *Config) {
			if c.Demo {
				t.Errorf("--demo=false: %+v", c)
			}
		}},
		{"demo off by env", nil, map[string]string{"REWIND_DEMO": "false"}, func(t *testing.T, c *Config) {
			if c.Demo {
				t.Errorf("REWIND_DEMO=false: %+v", c)
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
		{"pprof not loopback", []string{"--pprof-addr", "0.0.0.0:6060", "--insecure"}, nil, `setting "pprof-addr": "0.0.0.0:6060" is not a loopback address`},
		{"pprof bad address", []string{"--pprof-addr", "6060"}, nil, `setting "pprof-addr": want host:port or empty, got "6060"`},
		{"non-loopback without credentials", []string{"--http-addr", "0.0.0.0:8080"}, nil, `setting "http-addr": "0.0.0.0:8080" is not a loopback address`},
		{"bad yaml value", []string{"--config", badYAML}, nil, `key "retention": want a duration`},
		{"unknown yaml key", []string{"--config", unknown}, nil, `unknown key "colour"`},
		{"bad env", nil, map[string]string{"REWIND_AUTO_PROVISION": "maybe"}, `environment REWIND_AUTO_PROVISION: want true or false`},
		{"bad demo env", nil, map[string]string{"REWIND_DEMO": "maybe"}, `environment REWIND_DEMO: want true or false`},
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
			"--rtsp-udp-rtp-addr", "", "--rtsp-udp-rtcp-addr", "", "--rtmp-addr", "127.0.0.1:0", "--srt-addr", "127.0.0.1:0"}, envOf(nil), &bytes.Buffer{}, &logs)
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

// writeYAML writes a config file and returns its path.
func writeYAML(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rewind.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigYAMLTypes: YAML values are decoded with their YAML types (a
// number of seconds, a number of bytes, a list or a mapping of
// credentials), not turned back into text.
func TestConfigYAMLTypes(t *testing.T) {
	yml := writeYAML(t, `
retention: 3600
part-duration: 0.25
retention-max-bytes: 1073741824
min-free-space: 10%
auto-provision: false
demo: false
sync-writes: true
credentials: ["AKIDA:secretA", "AKIDB:secretB"]
public-url: https://rewind.example/base
harvest:
  webhook_url: http://hooks.example/harvest
`)
	c, err := loadConfig([]string{"--config", yml}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention != time.Hour || c.PartDuration != 250*time.Millisecond || c.RetentionMaxBytes != 1<<30 ||
		c.MinFreeSpace != (FreeSpace{Percent: 10}) || c.AutoProvision || c.Demo || !c.SyncWrites ||
		c.PublicURL != "https://rewind.example/base" || c.Harvest.WebhookURL != "http://hooks.example/harvest" {
		t.Errorf("typed values: %+v", c)
	}
	if got := c.APICredentials(); len(got) != 2 || got["AKIDA"] != "secretA" || got["AKIDB"] != "secretB" {
		t.Errorf("credentials list: %v", got)
	}

	yml = writeYAML(t, "retention-max-bytes: 500GiB\nmin-free-space: 0\ncredentials:\n  AKIDC: secretC\n")
	c, err = loadConfig([]string{"--config", yml, "--retention-max-bytes", "1GiB"}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.RetentionMaxBytes != 1<<30 || c.MinFreeSpace != (FreeSpace{}) || c.APICredentials()["AKIDC"] != "secretC" {
		t.Errorf("size string, zero headroom, credentials mapping, flag over YAML: %+v", c)
	}
}

// TestConfigYAMLTypeErrors: a value of the wrong YAML type is refused with
// an error that names the key, says what was wanted and gives the line.
func TestConfigYAMLTypeErrors(t *testing.T) {
	cases := []struct {
		yaml string
		want string
	}{
		{"retention-max-bytes: lots\n", `key "retention-max-bytes": want a size like 1GiB, 500MB or a number of bytes, got "lots"`},
		{"retention-max-bytes: -5\n", `key "retention-max-bytes": want a size`},
		{"retention: true\n", `key "retention": want a duration like 90s, 24h or a number of seconds, got bool "true" (line 1)`},
		{"data-dir: ./d\npart-duration: [1, 2]\n", `key "part-duration": want a duration like 90s, 24h or a number of seconds, got a list (line 2)`},
		{"auto-provision: 1\n", `key "auto-provision": want true or false, got int "1"`},
		{"auto-provision: maybe\n", `key "auto-provision": want true or false, got str "maybe"`},
		{"demo: off\n", `key "demo": want true or false, got str "off"`},
		{"http-addr: {host: x}\n", `key "http-addr": want a string, got a mapping`},
		{"http-addr: 8080\n", `key "http-addr": want a string, got int "8080"`},
		{"min-free-space: [1]\n", `key "min-free-space": want auto, a size`},
		{"credentials: 5\n", `key "credentials": want key:secret pairs, got int "5"`},
		{"credentials: [\"nocolon\"]\n", `key "credentials": want key:secret pairs separated by commas, got "nocolon"`},
		{"harvest:\n  webhook_url: [1]\n", `key "harvest"`},
		{"harvest:\n  colour: blue\n", `key "harvest"`},
		{"faults:\n  - colour: blue\n", `key "faults"`},
		{"faults:\n  - id: a\n    latency: soon\n", `key "faults"`},
		{"retention: 1h\nretention: 2h\n", `key "retention" given twice`},
		{"- retention\n", `want a mapping of settings`},
		{"config: other.yaml\n", `unknown key "config"`},
	}
	for _, tc := range cases {
		t.Run(tc.yaml, func(t *testing.T) {
			yml := writeYAML(t, tc.yaml)
			_, err := loadConfig([]string{"--config", yml}, envOf(nil), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "config "+yml+": ") {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestConfigFaults: the YAML faults list is typed (durations, instants) and
// each fault is validated at start, naming the item and the member.
func TestConfigFaults(t *testing.T) {
	yml := writeYAML(t, `
faults:
  - id: slow
    type: latency
    group: live
    channel: cam1
    latency: 750ms
  - id: flaky
    type: status
    group: live
    channel: cam1
    endpoint: default
    pattern: "video/*.m4s"
    status: 503
    probability: 0.25
    seed: 7
    until: 2030-01-01T00:00:00Z
`)
	c, err := loadConfig([]string{"--config", yml}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Faults) != 2 || time.Duration(c.Faults[0].Latency) != 750*time.Millisecond ||
		c.Faults[1].Seed == nil || *c.Faults[1].Seed != 7 || c.Faults[1].Until == nil || c.Faults[1].Until.Year() != 2030 {
		t.Fatalf("faults: %+v", c.Faults)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"faults:\n  - {id: a, type: status, group: live, channel: c, status: 302}\n", `setting "faults": item 1: invalid fault: status: want 404, 410, 500 or 503, got 302`},
		{"faults:\n  - {type: status, group: live, channel: c, status: 404}\n", `setting "faults": item 1: invalid fault: id:`},
		{"faults:\n  - {id: a, type: status, group: live, channel: c, status: 404}\n  - {id: a, type: status, group: live, channel: c, status: 410}\n", `setting "faults": item 2: id "a" given twice`},
	} {
		_, err := loadConfig([]string{"--config", writeYAML(t, tc.yaml)}, envOf(nil), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestConfigTencentCredentials: the Tencent SecretId/SecretKey come from
// YAML, the environment and flags (in that precedence) and must be set
// together.
func TestConfigTencentCredentials(t *testing.T) {
	yml := writeYAML(t, "tencent-secret-id: AKIDyaml\ntencent-secret-key: keyyaml\n")
	c, err := loadConfig([]string{"--config", yml}, envOf(map[string]string{"REWIND_TENCENT_SECRET_KEY": "keyenv"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.TencentSecretID != "AKIDyaml" || c.TencentSecretKey != "keyenv" {
		t.Errorf("YAML and env: %q %q", c.TencentSecretID, c.TencentSecretKey)
	}
	c, err = loadConfig([]string{"--config", yml, "--tencent-secret-id", "AKIDflag"}, envOf(nil), &bytes.Buffer{})
	if err != nil || c.TencentSecretID != "AKIDflag" || c.TencentSecretKey != "keyyaml" {
		t.Errorf("flag over YAML: %+v %v", c, err)
	}
	_, err = loadConfig([]string{"--tencent-secret-id", "AKIDonly"}, envOf(nil), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `setting "tencent-secret-key": set both tencent-secret-id and tencent-secret-key`) {
		t.Errorf("id without key: %v", err)
	}
}

func TestConfigPublishListeners(t *testing.T) {
	c, err := loadConfig(nil, envOf(nil), &bytes.Buffer{})
	if err != nil || c.RTMPAddr != "127.0.0.1:1935" || c.SRTAddr != "127.0.0.1:8890" || c.IngestTimeout != 10*time.Second ||
		c.IngestReadBatch != 40*time.Millisecond {
		t.Errorf("defaults: %+v %v", c, err)
	}
	yml := writeYAML(t, "rtmp-addr: \"\"\nsrt-addr: 127.0.0.1:9999\ningest-timeout: 5\npublish-user: enc\n")
	c, err = loadConfig([]string{"--config", yml}, envOf(map[string]string{"REWIND_PUBLISH_PASS": "0123456789"}), &bytes.Buffer{})
	if err != nil || c.RTMPAddr != "" || c.SRTAddr != "127.0.0.1:9999" || c.IngestTimeout != 5*time.Second ||
		c.PublishUser != "enc" || c.PublishPass != "0123456789" {
		t.Errorf("YAML and env: %+v %v", c, err)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--rtmp-addr", "nope"}, `setting "rtmp-addr": want host:port or empty`},
		{[]string{"--ingest-timeout", "0"}, `setting "ingest-timeout": must be between 1s and 10m`},
		{[]string{"--ingest-read-batch", "-1ms"}, `setting "ingest-read-batch": must be between 0 and 200ms`},
		{[]string{"--ingest-read-batch", "1s"}, `setting "ingest-read-batch": must be between 0 and 200ms`},
		{[]string{"--publish-user", "enc"}, `setting "publish-pass": set both publish-user and publish-pass`},
		{[]string{"--publish-user", "enc", "--publish-pass", "short"}, `setting "publish-pass": is also the SRT passphrase`},
	} {
		if _, err := loadConfig(bad.args, envOf(nil), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
	if c, err := loadConfig([]string{"--ingest-read-batch", "0"}, envOf(nil), &bytes.Buffer{}); err != nil || readBatch(c.IngestReadBatch) >= 0 {
		t.Errorf("--ingest-read-batch 0 (off): %v, RTSPServer.ReadBatch %v, want < 0", err, readBatch(c.IngestReadBatch))
	}
	if _, err := loadConfig([]string{"--publish-user", "enc", "--publish-pass", "short", "--srt-addr", ""}, envOf(nil), &bytes.Buffer{}); err != nil {
		t.Errorf("a short password without SRT: %v", err)
	}
}

// TestConfigChannelIngest: the YAML sections "publish-credentials" and
// "pull" are read and checked by the catalog's rules (the API's).
func TestConfigChannelIngest(t *testing.T) {
	yml := writeYAML(t, "publish-credentials:\n  - {group: live, channel: cam1, user: cam, pass: own-password}\n"+
		"pull:\n  - {group: live, channel: cam2, source: \"rtsp://u:p@192.0.2.1/s\", transport: tcp}\n")
	c, err := loadConfig([]string{"--config", yml}, envOf(nil), &bytes.Buffer{})
	if err != nil || len(c.PublishCredentials) != 1 || c.PublishCredentials[0] != (ChannelCredentials{Group: "live", Channel: "cam1", User: "cam", Pass: "own-password"}) ||
		len(c.Pull) != 1 || c.Pull[0].Source != "rtsp://u:p@192.0.2.1/s" {
		t.Fatalf("config %+v %v", c, err)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"publish-credentials:\n  - {group: live, channel: cam1, user: cam, pass: short}\n", `setting "publish-credentials": item 1: the publish password must have 10 to 79 characters`},
		{"publish-credentials:\n  - {group: live, channel: a.b, user: cam, pass: own-password}\n", `setting "publish-credentials": item 1: group and channel must be valid names`},
		{"publish-credentials:\n  - {group: l, channel: c, pass: own-password}\n  - {group: l, channel: c, pass: own-password}\n", `item 2: channel l/c given twice`},
		{"publish-credentials:\n  - {group: l, channel: c, pwd: x}\n", `publish-credentials`},
		{"pull:\n  - {group: l, channel: c, source: \"http://u:secret@cam/s\"}\n", `setting "pull": item 1: the source must be an rtsp:// or rtsps:// URL with a host, got "http://cam/s"`},
	} {
		_, err := loadConfig([]string{"--config", writeYAML(t, bad.yaml)}, envOf(nil), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.yaml, err, bad.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error quotes a password: %v", bad.yaml, err)
		}
	}
}
