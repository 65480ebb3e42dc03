package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/ingest/name"
	"github.com/rewind-origin/rewind/origin/fault"
)

// Config is every setting of `rewind serve`. Precedence: built-in defaults,
// then the YAML file given by --config, then REWIND_* environment variables,
// then flags. Keys are the flag names; the environment twin of "data-dir" is
// REWIND_DATA_DIR; YAML uses the same keys.
type Config struct {
	ConfigFile  string
	DataDir     string
	HTTPAddr    string
	RTSPAddr    string
	RTSPUDPRTP  string
	RTSPUDPRTCP string
	// RTMPAddr and SRTAddr are the RTMP (TCP) and SRT (UDP) publish
	// listeners; empty disables one.
	RTMPAddr string
	SRTAddr  string
	// PublishUser and PublishPass, when set, are required from every
	// publisher (RTSP basic/digest, RTMP ?user=&pass=, SRT passphrase).
	PublishUser string
	PublishPass string
	// IngestTimeout drops a publisher that sends nothing for that long.
	IngestTimeout time.Duration
	// IngestReadBatch is ingest.RTSPServer's and RTMPServer's ReadBatch:
	// how long a publisher's media may wait in the kernel to be read
	// together; 0 = not batched.
	IngestReadBatch time.Duration
	AutoProvision   bool
	Retention       time.Duration
	// MinFreeSpace is the free-space headroom of the data folder's file
	// system; RetentionMaxBytes caps the archive's media (0 = no cap).
	MinFreeSpace      FreeSpace
	RetentionMaxBytes int64
	PartDuration      time.Duration
	// IngestMaxBody bounds one HTTP push upload (playlist or segment).
	IngestMaxBody int64
	LogLevel      string
	LogFormat     string
	Insecure      bool
	SyncWrites    bool
	// Control plane (MediaPackage v2 API).
	Region      string
	AccountID   string
	AccessKey   string
	SecretKey   string
	Credentials map[string]string // more access key id → secret key pairs
	PublicURL   string
	DevClock    bool
	// Demo publishes the built-in live channels demo/clock and demo/audio (cmd/rewind/demo.go).
	Demo bool
	// PprofAddr serves Go's runtime profiles (net/http/pprof); empty: off.
	// Always a loopback address.
	PprofAddr string
	// Faults are injected from the start (YAML section "faults": a list of
	// fault objects as the /rewind/v1/faults API takes them, each with an
	// id; see docs/faults.md).
	Faults []fault.Fault
	// Tencent StreamPackage API (TC3 signatures).
	TencentSecretID  string
	TencentSecretKey string
	// Harvest holds the harvest-job destinations (YAML section "harvest":
	// buckets and webhook_url; see docs/harvest.md).
	Harvest harvest.Config
	// Pull lists the channels Rewind pulls from RTSP sources (YAML section
	// "pull": a list of {group, channel, source, transport}; docs/publish.md).
	Pull []PullSource
	// PublishCredentials gives channels their own publish credentials
	// (YAML section "publish-credentials": a list of {group, channel,
	// user, pass}); a channel's credentials set through the API win.
	PublishCredentials []ChannelCredentials
	// Cluster, when set (YAML section "cluster"; docs/cluster.md), stores
	// the archive's media as packs in an S3-compatible bucket.
	Cluster *ClusterConfig
}

// ChannelCredentials are one channel's own publish credentials.
type ChannelCredentials struct {
	Group   string `yaml:"group"`
	Channel string `yaml:"channel"`
	User    string `yaml:"user"`
	Pass    string `yaml:"pass"`
}

// PullSource is one channel pulled from an RTSP source (a camera).
type PullSource struct {
	Group     string `yaml:"group"`
	Channel   string `yaml:"channel"`
	Source    string `yaml:"source"`
	Transport string `yaml:"transport"` // tcp, udp or empty (UDP, then TCP)
}

// durationValue is a flag.Value for time.Duration that also accepts plain
// seconds ("3600").
type durationValue struct{ p *time.Duration }

func (d durationValue) String() string {
	if d.p == nil {
		return ""
	}
	return d.p.String()
}

func (d durationValue) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		*d.p = time.Duration(n * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration like 90s, 24h or a number of seconds, got %q", s)
	}
	*d.p = v
	return nil
}

// decodeYAML takes a number of seconds or a duration string.
func (d durationValue) decodeYAML(n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!int", "!!float":
		var sec float64
		if err := n.Decode(&sec); err != nil {
			return err
		}
		*d.p = time.Duration(sec * float64(time.Second))
		return nil
	case "!!str":
		return d.Set(n.Value)
	}
	return fmt.Errorf("want a duration like 90s, 24h or a number of seconds, got %s", describe(n))
}

// settingValue is a setting's value: set from text by flags and the
// environment, and decoded from its YAML node with the types the YAML
// decoder checks (a bool is a YAML bool, a size a number or a string), so
// YAML values never go back to text to be parsed again.
type settingValue interface {
	flag.Value
	decodeYAML(n *yaml.Node) error
}

// describe names a YAML node in an error: its value or its kind.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "nothing"
}

// setting declares one key once for the flag set, the YAML file and the environment.
type setting struct {
	key   string
	help  string
	value settingValue
}

func (c *Config) settings() []setting {
	str := func(p *string) settingValue { return (*stringValue)(p) }
	boo := func(p *bool) settingValue { return (*boolValue)(p) }
	return []setting{
		{"config", "YAML file with settings (keys as the flag names)", str(&c.ConfigFile)},
		{"data-dir", "folder for the archive (media logs, index, resources)", str(&c.DataDir)},
		{"http-addr", "HTTP listen address for playback, API, metrics; port 0 picks one", str(&c.HTTPAddr)},
		{"rtsp-addr", "RTSP listen address for publishers (TCP); port 0 picks one", str(&c.RTSPAddr)},
		{"rtsp-udp-rtp-addr", "RTSP UDP RTP listen address (even port); empty disables UDP", str(&c.RTSPUDPRTP)},
		{"rtsp-udp-rtcp-addr", "RTSP UDP RTCP listen address (the RTP port + 1)", str(&c.RTSPUDPRTCP)},
		{"rtmp-addr", "RTMP listen address for publishers (rtmp://HOST:PORT/{group}/{channel}); empty disables RTMP", str(&c.RTMPAddr)},
		{"srt-addr", "SRT listen address (UDP) for publishers (srt://HOST:PORT?streamid=publish:{group}/{channel}); empty disables SRT", str(&c.SRTAddr)},
		{"publish-user", "user every publisher must give (RTSP authentication, RTMP ?user=); empty = none", str(&c.PublishUser)},
		{"publish-pass", "password every publisher must give (RTSP authentication, RTMP ?pass=, SRT passphrase of 10 to 79 characters); empty = none", str(&c.PublishPass)},
		{"ingest-timeout", "drop a publisher that sends nothing for that long", durationValue{&c.IngestTimeout}},
		{"ingest-read-batch", "how long the media of an RTSP/TCP or RTMP publisher may wait in the kernel to be read together (fewer system calls per packet; at most twice this when a feed slows down); 0 = read each packet as it comes", durationValue{&c.IngestReadBatch}},
		{"auto-provision", "create group, channel and endpoint \"default\" on first publish", boo(&c.AutoProvision)},
		{"retention", "start-over window kept in the archive (e.g. 24h)", durationValue{&c.Retention}},
		{"min-free-space", "free space kept on the data folder's file system: below it recording pauses, API writes get 503, the oldest unpinned media is evicted and a start opens the archive read-only; auto = the smaller of 1GiB and 5%, or a size (2GiB), a percentage (10%), 0 = off", freeSpaceValue{&c.MinFreeSpace}},
		{"retention-max-bytes", "cap on the archive's media size (e.g. 500GiB); above it the oldest unpinned media is evicted whatever its age; 0 = no cap", byteSize{&c.RetentionMaxBytes}},
		{"part-duration", "chunk duration inside segments for LL-HLS parts (0 = one chunk per segment)", durationValue{&c.PartDuration}},
		{"ingest-max-body", "largest HTTP push upload (playlist or segment) accepted under /in/v1/, e.g. 64MiB", byteSize{&c.IngestMaxBody}},
		{"log-level", "debug, info, warn or error", str(&c.LogLevel)},
		{"log-format", "text or json", str(&c.LogFormat)},
		{"insecure", "allow binding HTTP to a non-loopback address without credentials", boo(&c.Insecure)},
		{"region", "AWS region of the MediaPackage v2 API (ARNs, SigV4 scope)", str(&c.Region)},
		{"account-id", "12-digit account id in ARNs", str(&c.AccountID)},
		{"access-key", "API access key id; with secret-key, SigV4 signatures are verified", str(&c.AccessKey)},
		{"secret-key", "API secret access key (pairs with access-key)", str(&c.SecretKey)},
		{"credentials", "more API credentials as key:secret[,key:secret...] (a YAML list works too)", credentialsValue{&c.Credentials}},
		{"tencent-secret-id", "Tencent StreamPackage API SecretId; with tencent-secret-key, TC3 signatures are verified on /tencent", str(&c.TencentSecretID)},
		{"tencent-secret-key", "Tencent StreamPackage API SecretKey (pairs with tencent-secret-id)", str(&c.TencentSecretKey)},
		{"harvest-webhook-url", "URL that receives a POST with the EventBridge-shaped event of every finished harvest job", str(&c.Harvest.WebhookURL)},
		{"public-url", "base URL in API responses (manifest Url, EgressDomain, ingest host); default http://<bound http-addr>", str(&c.PublicURL)},
		{"sync-writes", "fdatasync media before indexing each segment (survives power loss, costs IOPS)", boo(&c.SyncWrites)},
		{"dev-clock", "development: let requests set \"now\" with the X-Rewind-Now header, and serve the server-wide test clock at /rewind/v1/clock (tests only)", boo(&c.DevClock)},
		{"pprof-addr", "listen address of Go's runtime profiles at /debug/pprof/ (loopback only, for profiling); empty = off", str(&c.PprofAddr)},
		{"demo", "publish the built-in live channels demo/clock (a looped clip showing the wall clock's seconds, archived like any channel) and demo/audio (its audio alone); false turns them off", boo(&c.Demo)},
	}
}

type stringValue string

func (s *stringValue) String() string     { return string(*s) }
func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }

// decodeYAML takes a string scalar (an empty value is "").
func (s *stringValue) decodeYAML(n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!str", "!!null":
		*s = stringValue(n.Value)
		return nil
	}
	return fmt.Errorf("want a string, got %s", describe(n))
}

type boolValue bool

func (b *boolValue) String() string { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", v)
	}
	*b = boolValue(x)
	return nil
}
func (b *boolValue) IsBoolFlag() bool { return true }

// decodeYAML takes a YAML bool.
func (b *boolValue) decodeYAML(n *yaml.Node) error {
	if n.ShortTag() != "!!bool" {
		return fmt.Errorf("want true or false, got %s", describe(n))
	}
	return n.Decode((*bool)(b))
}

// defaultConfig returns the embedded defaults.
func defaultConfig() Config {
	return Config{
		DataDir:         "./data",
		HTTPAddr:        "127.0.0.1:8080",
		RTSPAddr:        "127.0.0.1:8554",
		RTSPUDPRTP:      "127.0.0.1:8000",
		RTSPUDPRTCP:     "127.0.0.1:8001",
		RTMPAddr:        "127.0.0.1:1935",
		SRTAddr:         "127.0.0.1:8890",
		IngestTimeout:   10 * time.Second,
		IngestReadBatch: ingest.DefaultReadBatch,
		AutoProvision:   true,
		Retention:       24 * time.Hour,
		MinFreeSpace:    FreeSpace{Auto: true},
		PartDuration:    500 * time.Millisecond, // LL-HLS parts out of the box
		IngestMaxBody:   64 << 20,
		LogLevel:        "info",
		LogFormat:       "text",
		Region:          mpv2.DefaultRegion,
		AccountID:       mpv2.DefaultAccount,
		Demo:            true,
	}
}

// credentialsValue is a flag.Value of access key id → secret key pairs,
// written "key:secret[,key:secret...]" (brackets around the list are
// ignored); YAML may also give a list of pairs or a mapping.
type credentialsValue struct{ m *map[string]string }

func (v credentialsValue) String() string {
	if v.m == nil || len(*v.m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(*v.m))
	for k := range *v.m {
		keys = append(keys, k+":********")
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (v credentialsValue) Set(s string) error {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
	m := map[string]string{}
	for _, pair := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		key, secret, ok := strings.Cut(pair, ":")
		if !ok || key == "" || secret == "" {
			return fmt.Errorf("want key:secret pairs separated by commas, got %q", pair)
		}
		m[key] = secret
	}
	*v.m = m
	return nil
}

// decodeYAML takes a list of "key:secret" strings, a mapping of key to
// secret, or one "key:secret[,key:secret...]" string.
func (v credentialsValue) decodeYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.SequenceNode:
		var pairs []string
		if err := n.Decode(&pairs); err != nil {
			return err
		}
		return v.Set(strings.Join(pairs, ","))
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for key, secret := range m {
			if key == "" || secret == "" {
				return fmt.Errorf("want non-empty keys and secrets, got key %q", key)
			}
		}
		*v.m = m
		return nil
	}
	if n.ShortTag() != "!!str" {
		return fmt.Errorf("want key:secret pairs, got %s", describe(n))
	}
	return v.Set(n.Value)
}

// APICredentials returns every configured access key id → secret key.
func (c *Config) APICredentials() map[string]string {
	m := map[string]string{}
	for k, s := range c.Credentials {
		m[k] = s
	}
	if c.AccessKey != "" && c.SecretKey != "" {
		m[c.AccessKey] = c.SecretKey
	}
	return m
}

func envName(key string) string {
	return "REWIND_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

// loadConfig applies the layers and validates. Errors quote the offending key.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("rewind serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	set := c.settings()
	for _, s := range set {
		fs.Var(s.value, s.key, s.help+" (env "+envName(s.key)+")")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: rewind serve [flags]\n\nSettings: defaults < YAML file (--config) < REWIND_* environment < flags.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fromFlags := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { fromFlags[f.Name] = true })

	// The config file may come from the environment too.
	if !fromFlags["config"] {
		if v := getenv(envName("config")); v != "" {
			c.ConfigFile = v
		}
	}
	if c.ConfigFile != "" {
		if err := c.decodeFile(set, fromFlags); err != nil {
			return nil, fmt.Errorf("config %s: %w", c.ConfigFile, err)
		}
	}
	for _, s := range set {
		if s.key == "config" || fromFlags[s.key] {
			continue
		}
		if v, ok := lookupEnv(getenv, envName(s.key)); ok {
			if err := s.value.Set(v); err != nil {
				return nil, fmt.Errorf("environment %s: %w", envName(s.key), err)
			}
		}
	}
	return &c, c.validate()
}

// decodeFile decodes the YAML file into c: each top-level key once, into
// its setting's typed value (yamlValue), unknown keys refused, errors
// naming the key. Keys given as flags are left to the flags.
func (c *Config) decodeFile(set []setting, fromFlags map[string]bool) error {
	b, err := os.ReadFile(c.ConfigFile)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return nil // an empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("want a mapping of settings, got %s", describe(root))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, root.Content[i+1]
		if seen[k] {
			return fmt.Errorf("key %q given twice", k)
		}
		seen[k] = true
		if k == "faults" {
			if err := decodeSection(v, &c.Faults); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			continue
		}
		if k == "pull" {
			if err := decodeSection(v, &c.Pull); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			continue
		}
		if k == "publish-credentials" {
			if err := decodeSection(v, &c.PublishCredentials); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			continue
		}
		if k == "cluster" {
			c.Cluster = &ClusterConfig{}
			if err := decodeSection(v, c.Cluster); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			continue
		}
		if k == "harvest" {
			if err := decodeSection(v, &c.Harvest); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			continue
		}
		s, ok := find(set, k)
		if !ok || k == "config" {
			return fmt.Errorf("unknown key %q", k)
		}
		if fromFlags[k] {
			continue
		}
		if err := s.value.decodeYAML(v); err != nil {
			return fmt.Errorf("key %q: %w (line %d)", k, err, v.Line)
		}
	}
	return nil
}

// decodeSection decodes a nested YAML section into v, refusing unknown keys.
func decodeSection(section *yaml.Node, v any) error {
	b, err := yaml.Marshal(section)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func lookupEnv(getenv func(string) string, k string) (string, bool) {
	v := getenv(k)
	return v, v != ""
}

func find(set []setting, key string) (setting, bool) {
	for _, s := range set {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// validate checks every setting before anything binds.
func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("setting %q: "+format, append([]any{key}, a...)...))
	}
	if c.DataDir == "" {
		bad("data-dir", "must not be empty")
	}
	for key, addr := range map[string]string{"http-addr": c.HTTPAddr, "rtsp-addr": c.RTSPAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(key, "want host:port, got %q", addr)
		}
	}
	for key, addr := range map[string]string{"rtmp-addr": c.RTMPAddr, "srt-addr": c.SRTAddr} {
		if _, _, err := net.SplitHostPort(addr); addr != "" && err != nil {
			bad(key, "want host:port or empty, got %q", addr)
		}
	}
	if c.IngestTimeout < time.Second || c.IngestTimeout > 10*time.Minute {
		bad("ingest-timeout", "must be between 1s and 10m, got %s", c.IngestTimeout)
	}
	if c.IngestReadBatch < 0 || c.IngestReadBatch > 200*time.Millisecond {
		bad("ingest-read-batch", "must be between 0 and 200ms, got %s", c.IngestReadBatch)
	}
	if (c.PublishUser == "") != (c.PublishPass == "") {
		bad("publish-pass", "set both publish-user and publish-pass, or neither")
	}
	if p := c.PublishPass; p != "" && c.SRTAddr != "" && (len(p) < 10 || len(p) > 79) {
		bad("publish-pass", "is also the SRT passphrase and must have 10 to 79 characters (or set srt-addr empty)")
	}
	if (c.RTSPUDPRTP == "") != (c.RTSPUDPRTCP == "") {
		bad("rtsp-udp-rtcp-addr", "set both rtsp-udp-rtp-addr and rtsp-udp-rtcp-addr, or neither")
	} else if c.RTSPUDPRTP != "" {
		if err := checkUDPPair(c.RTSPUDPRTP, c.RTSPUDPRTCP); err != nil {
			bad("rtsp-udp-rtp-addr", "%v", err)
		}
	}
	if c.Retention < time.Minute {
		bad("retention", "must be at least 1m, got %s", c.Retention)
	}
	if c.PartDuration < 0 || c.PartDuration > 10*time.Second {
		bad("part-duration", "must be between 0 and 10s, got %s", c.PartDuration)
	}
	if c.IngestMaxBody < 1024 {
		bad("ingest-max-body", "must be at least 1KiB, got %d bytes", c.IngestMaxBody)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "want text or json, got %q", c.LogFormat)
	}
	if !regionPattern.MatchString(c.Region) {
		bad("region", "want an AWS region name like us-east-1, got %q", c.Region)
	}
	if !accountPattern.MatchString(c.AccountID) {
		bad("account-id", "want 12 digits, got %q", c.AccountID)
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		bad("secret-key", "set both access-key and secret-key, or neither")
	}
	if (c.TencentSecretID == "") != (c.TencentSecretKey == "") {
		bad("tencent-secret-key", "set both tencent-secret-id and tencent-secret-key, or neither")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("public-url", "want an http(s)://host[:port][/path] URL, got %q", c.PublicURL)
		}
	}
	pulled := map[string]bool{}
	for i, p := range c.Pull {
		src := catalog.PullSource{URL: p.Source, Transport: p.Transport}
		switch err := src.Check(); {
		case name.Check(p.Group) != nil || name.Check(p.Channel) != nil:
			bad("pull", "item %d: group and channel must be valid names, got %q/%q", i+1, p.Group, p.Channel)
		case err != nil:
			bad("pull", "item %d: %v", i+1, err)
		case pulled[p.Group+"/"+p.Channel]:
			bad("pull", "item %d: channel %s/%s pulled twice", i+1, p.Group, p.Channel)
		}
		pulled[p.Group+"/"+p.Channel] = true
	}
	credited := map[string]bool{}
	for i, pc := range c.PublishCredentials {
		p := catalog.PublishCredentials{User: pc.User, Password: pc.Pass}
		switch err := p.Check(); {
		case name.Check(pc.Group) != nil || name.Check(pc.Channel) != nil:
			bad("publish-credentials", "item %d: group and channel must be valid names, got %q/%q", i+1, pc.Group, pc.Channel)
		case err != nil:
			bad("publish-credentials", "item %d: %v", i+1, err)
		case credited[pc.Group+"/"+pc.Channel]:
			bad("publish-credentials", "item %d: channel %s/%s given twice", i+1, pc.Group, pc.Channel)
		}
		credited[pc.Group+"/"+pc.Channel] = true
	}
	ids := map[string]bool{}
	for i, f := range c.Faults {
		switch err := f.Normalize(); {
		case err != nil:
			bad("faults", "item %d: %v", i+1, err)
		case ids[f.ID]:
			bad("faults", "item %d: id %q given twice", i+1, f.ID)
		}
		ids[f.ID] = true
	}
	if a := c.PprofAddr; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("pprof-addr", "want host:port or empty, got %q", a)
		} else if !isLoopback(a) {
			bad("pprof-addr", "%q is not a loopback address: profiles expose the process's memory and code paths", a)
		}
	}
	if c.Cluster != nil {
		if err := c.Cluster.check(c.HTTPAddr); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && !c.Insecure && !isLoopback(c.HTTPAddr) && len(c.APICredentials()) == 0 {
		bad("http-addr", "%q is not a loopback address and no credentials are configured; pass --insecure to serve it anyway", c.HTTPAddr)
	}
	return errors.Join(errs...)
}

var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
)

func checkUDPPair(rtp, rtcp string) error {
	h1, p1, err1 := net.SplitHostPort(rtp)
	h2, p2, err2 := net.SplitHostPort(rtcp)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("want host:port addresses, got %q and %q", rtp, rtcp)
	}
	a, errA := strconv.Atoi(p1)
	b, errB := strconv.Atoi(p2)
	if errA != nil || errB != nil || h1 != h2 || a%2 != 0 || b != a+1 {
		return fmt.Errorf("RTP needs an even port and RTCP the next one on the same host, got %q and %q", rtp, rtcp)
	}
	return nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
