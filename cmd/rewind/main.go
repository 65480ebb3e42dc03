// Command rewind is a live streaming origin with a time-shift archive:
// RTSP publish in, CMAF HLS/DASH out, every segment indexed for start-over.
//
//	rewind serve [flags]                   start the origin (see rewind serve --help)
//	rewind index rebuild --data-dir DIR    rebuild the archive index from the media logs
//	rewind version                         print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/cluster"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/ingest/httpush"
	"github.com/rewind-origin/rewind/origin"
	"github.com/rewind-origin/rewind/origin/console"
	"github.com/rewind-origin/rewind/origin/cues"
	"github.com/rewind-origin/rewind/origin/mediapackage"
	"github.com/rewind-origin/rewind/origin/sigv4"
	"github.com/rewind-origin/rewind/origin/tc3"
	"github.com/rewind-origin/rewind/origin/tencent"
	"github.com/rewind-origin/rewind/packager/live"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `Rewind: live streaming origin with a time-shift archive.

Usage:
  rewind serve [flags]                 start the origin (rewind serve --help lists every setting)
  rewind index rebuild --data-dir DIR  rebuild the archive index from the media logs (Rewind stopped)
  rewind version                       print the version
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		cfg, err := loadConfig(args[1:], getenv, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "rewind: %v\n", err)
			return 2
		}
		if err := serve(ctx, cfg, stderr); err != nil {
			fmt.Fprintf(stderr, "rewind: %v\n", err)
			if errors.Is(err, archive.ErrIndexDamaged) {
				fmt.Fprintf(stderr, "rewind: the index can be rebuilt from the media logs: stop Rewind, then run\n"+
					"  rewind index rebuild --data-dir %s\n", cfg.DataDir)
			}
			return 1
		}
		return 0
	case "index":
		return runIndex(args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "rewind %s\n", version)
		return 0
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "rewind: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve wires the components, runs until ctx is done, then shuts down in
// data-flow order: ingest (each publication finishes its segment in flight),
// packaging, HTTP, archive.
func serve(ctx context.Context, cfg *Config, logw io.Writer) error {
	log := newLogger(cfg, logw)
	if cfg.PprofAddr != "" {
		stop, err := startPprof(cfg.PprofAddr, log.With("component", "pprof"))
		if err != nil {
			return err
		}
		defer stop()
	}
	now, sim := serverClock(cfg)
	var (
		packs *archive.PackConfig
		owner *cluster.Cluster
	)
	if cfg.Cluster != nil {
		var err error
		if packs, err = cfg.Cluster.packConfig(ctx); err != nil {
			return err
		}
		if owner, err = cfg.Cluster.owner(cfg.HTTPAddr, log.With("component", "cluster")); err != nil {
			return err
		}
		if owner != nil {
			packs.Owner = owner
			defer func() { // after the archive's close and final pass: then the standbys take over
				if err := owner.Close(); err != nil {
					log.Error("closing the etcd client", "error", err)
				}
			}()
		}
	}
	store, err := archive.Open(archive.Config{
		Packs:      packs,
		Now:        now,
		Dir:        cfg.DataDir,
		Logger:     log.With("component", "archive"),
		Retention:  cfg.Retention,
		SyncWrites: cfg.SyncWrites,
		MinFreeSpace: func(total uint64) uint64 {
			return cfg.MinFreeSpace.For(total, archive.DefaultMinFreeSpace)
		},
		RetentionMaxBytes: cfg.RetentionMaxBytes,
	})
	if err != nil {
		return fmt.Errorf("open archive in %s: %w", cfg.DataDir, err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing archive", "error", err)
		}
	}()
	// The catalog and the harvest job records: the local index, or in
	// cluster mode with etcd the store every node shares.
	var records archive.ResourceStore = store
	node := ""
	if owner != nil {
		res, err := sharedResources(owner, store, log.With("component", "cluster"))
		if err != nil {
			return err
		}
		defer func() { // after harvest, before the etcd client
			if err := res.Close(); err != nil {
				log.Error("closing the etcd resource watch", "error", err)
			}
		}()
		records, node = res, owner.Node()
	}
	cat := catalog.New(records)
	metrics := newMetrics(func() (int64, int64) {
		st := store.Stats()
		return st.Bytes, st.Segments
	})
	diskState := func() origin.DiskState {
		d, st := store.DiskStatus(), store.Stats()
		return origin.DiskState{Full: d.Full, ReadOnly: d.ReadOnly, FreeBytes: d.Free, TotalBytes: d.Total,
			MinFreeBytes: d.MinFree, Since: d.Since, Reason: d.Reason,
			EvictedSegments: st.EvictedSegments, EvictedBytes: st.EvictedBytes}
	}
	metrics.registerDisk(diskState)
	if packs != nil {
		metrics.registerPacks(store.PackStats)
	}
	if owner != nil {
		metrics.registerOwnership(owner.Stats)
	}

	router := &live.Router{
		OpenWriter: func(channel string) (live.Writer, error) {
			w, err := store.OpenWriter(channel)
			if errors.Is(err, archive.ErrBusy) {
				return nil, fmt.Errorf("%s: %w", channel, ingest.ErrBusy)
			}
			return w, err
		},
		Prepare: func(group, channel string) (time.Duration, error) {
			if cfg.AutoProvision {
				if err := cat.AutoProvision(group, channel, time.Now()); err != nil {
					return 0, err
				}
			} else if _, err := cat.Channel(group, channel); err != nil {
				return 0, fmt.Errorf("%s/%s: %w", group, channel, ingest.ErrNotFound)
			}
			return cat.PackagingFor(group, channel), nil
		},
		PartDuration: cfg.PartDuration,
		Observer:     metrics,
		Logger:       log.With("component", "packager"),
	}
	if owner != nil {
		router.Align = owner.AlignTrack
	}
	if err := router.Initialize(); err != nil {
		return err
	}
	defer router.Close()

	httpSrv := &origin.Server{
		Address: cfg.HTTPAddr,
		Archive: store,
		Catalog: cat,
		Disk:    diskState,
		// The process owns the registry; the origin serves it and adds its request counter.
		Registerer: metrics.registerer(),
		Metrics:    metrics.handler(),
		Logger:     log.With("component", "origin"),
		// Endpoints without a start-over window reach back as far as the archive keeps.
		Retention: cfg.Retention,
		DevClock:  cfg.DevClock,
		Now:       now,
	}
	if owner != nil {
		// Any node answers any channel: the owner's live edge, forwarded.
		httpSrv.Owners = owner
	}
	faults, err := newFaults(cfg, now, metrics.registerer(), log.With("component", "fault"))
	if err != nil {
		return err
	}
	httpSrv.Faults = faults
	harv := &harvest.Service{
		Config:           cfg.Harvest,
		DataDir:          cfg.DataDir,
		Archive:          store,
		Records:          records,
		Node:             node,
		Endpoints:        cat,
		Logger:           log.With("component", "harvest"),
		Region:           cfg.Region,
		Account:          cfg.AccountID,
		DefaultStartover: cfg.Retention,
		Packs:            cfg.Cluster.harvestPacks(),
		Registerer:       metrics.registerer(),
		Now:              now,
	}
	if owner != nil {
		// The jobs of a node gone for longer than node-grace fail.
		harv.Nodes, harv.NodeGrace = owner, cfg.Cluster.nodeGrace()
	}
	if err := harv.Initialize(); err != nil {
		return fmt.Errorf("harvest: %w", err)
	}
	defer func() {
		if err := harv.Close(); err != nil {
			log.Error("closing harvest", "error", err)
		}
	}()
	var rtspBound atomic.Pointer[string] // set once RTSP is listening
	var pulls atomic.Pointer[pullSync]   // set once the pulls run
	api := newControlPlane(cfg, cat, httpSrv, &rtspBound, log.With("component", "api"))
	api.Harvester = harv
	api.Now = now
	api.PullStatus = func(group, channel string) (mediapackage.PullStatus, bool) {
		ps := pulls.Load()
		if ps == nil {
			return mediapackage.PullStatus{}, false
		}
		st, ok := ps.state(group, channel)
		return mediapackage.PullStatus{Connected: st.Connected, Retries: st.Retries, LastError: st.LastError}, ok
	}
	auth, err := newPublishAuth(cfg, cat, metrics.registerer())
	if err != nil {
		return err
	}
	// The control plane is served beside the data plane, on the same router.
	httpSrv.Mounts = append(httpSrv.Mounts, origin.Mount{Routes: mediapackage.Routes(), Handler: api})
	httpSrv.Mounts = append(httpSrv.Mounts, simulationMounts(faults, sim, api.Verifier, func(now time.Time) {
		// A clock move applies to manifests, retention and harvest schedules at once.
		httpSrv.ClockChanged()
		if _, err := store.Prune(now); err != nil {
			log.Error("retention after a clock change", "error", err)
		}
		harv.Wake()
	})...)
	// SCTE-35 cue injection (a Rewind extension), guarded like the control plane.
	// MPEG-TS ingest (SRT) stores the SCTE-35 cues of its feeds through it too.
	cueAPI := &cues.API{Store: store, Channels: cat, Now: now, Retention: cfg.Retention, Changed: httpSrv.ClockChanged,
		Logger: log.With("component", "cues")}
	httpSrv.Mounts = append(httpSrv.Mounts, origin.Mount{Routes: cues.Routes(), Handler: guard(api.Verifier, cueAPI)})
	httpSrv.Mounts = append(httpSrv.Mounts, origin.Mount{Routes: tencent.Routes(), Handler: newTencentAPI(cfg, cat, harv, store, api, log.With("component", "tencent-api"))})
	// HTTP push ingest (MediaPackage v2's /in/v1/) too, into the same router as RTSP.
	push := newPushIngest(cfg, cat, router, log.With("component", "ingest", "protocol", "http-push"))
	push.Credentials, push.ChannelCredentials, push.OnRefused = auth.creds, auth.lookup, auth.count("http-push")
	if err := push.Initialize(); err != nil {
		return err
	}
	defer push.Close()
	httpSrv.Mounts = append(httpSrv.Mounts, origin.Mount{Routes: httpush.Routes(), Handler: push})
	httpSrv.MQCS = push.MQCS
	httpSrv.Mounts = append(httpSrv.Mounts, origin.Mount{Routes: console.Routes(), Handler: newConsole(cfg, cat, harv, store, api, log.With("component", "console"))})
	if err := httpSrv.Initialize(); err != nil {
		return fmt.Errorf("setting \"http-addr\": %w", err)
	}
	defer httpSrv.Close()
	if owner != nil {
		// With http-addr's port 0, the port bound: before RTSP ingest
		// starts (an HTTP push campaigns after two etcd round trips; while
		// a node advertises no URL, the others serve its channels
		// themselves).
		owner.Advertise(cfg.Cluster.advertiseURL(cfg.HTTPAddr, httpSrv.Addr()))
	}

	rtsp := &ingest.RTSPServer{
		Address:        cfg.RTSPAddr,
		UDPRTPAddress:  cfg.RTSPUDPRTP,
		UDPRTCPAddress: cfg.RTSPUDPRTCP,
		Handler:        router,
		Logger:         log.With("component", "ingest"),
		ReadTimeout:    cfg.IngestTimeout,
		ReadBatch:      readBatch(cfg.IngestReadBatch),
	}
	pubs, err := startPublishListeners(cfg, cat, auth, rtsp, router, cueAPI, metrics.registerer(), log.With("component", "ingest"))
	if err != nil {
		return err
	}
	pulls.Store(pubs.pulls)
	if err := rtsp.Initialize(); err != nil {
		pubs.close()
		return fmt.Errorf("setting \"rtsp-addr\": %w", err)
	}
	rtspAddr := rtsp.Addr()
	rtspBound.Store(&rtspAddr)
	closeDemo := func() {}
	if cfg.Demo {
		stop, err := startDemo(cat, router, log.With("component", "demo"))
		if err != nil {
			rtsp.Close()
			pubs.close()
			return err
		}
		closeDemo = stop
	}
	log.Info("rewind started", append([]any{"version", version, "http", httpSrv.Addr(), "rtsp", rtsp.Addr()},
		append(pubs.addrs(), "data_dir", cfg.DataDir, "auto_provision", cfg.AutoProvision, "demo", cfg.Demo)...)...)

	<-ctx.Done()
	log.Info("shutting down")
	rtsp.Close()   // every publication's Stream is closed
	pubs.close()   // and the RTMP and SRT ones'
	closeDemo()    // and the demo channels'
	push.Close()   // every push session's Stream is closed
	router.Close() // segments in flight are completed and indexed
	httpSrv.Close()
	log.Info("stopped")
	return nil
}

// newControlPlane builds the MediaPackage v2 API. Manifest URLs use the
// public URL (default: the bound HTTP address); ingest URLs the bound RTSP
// address (with the public URL's host when one is set). With credentials
// configured every request must carry a valid SigV4 signature.
func newControlPlane(cfg *Config, cat *catalog.Catalog, httpSrv *origin.Server, rtspBound *atomic.Pointer[string], log *slog.Logger) *mediapackage.API {
	api := &mediapackage.API{
		Catalog: cat,
		Region:  cfg.Region,
		Account: cfg.AccountID,
		Logger:  log,
		PublicURL: func() string {
			if cfg.PublicURL != "" {
				return strings.TrimSuffix(cfg.PublicURL, "/")
			}
			return "http://" + httpSrv.Addr()
		},
		IngestURLs: func(group, channel string) []string {
			return ingestURLs(cfg, cat, httpSrv, rtspBound.Load(), group, channel)
		},
	}
	if creds := cfg.APICredentials(); len(creds) > 0 {
		api.Verifier = &sigv4.Verifier{Service: mediapackage.SigningName, Region: cfg.Region, Credentials: creds}
	}
	return api
}

// newTencentAPI builds the Tencent StreamPackage API over the same catalog
// and harvest service, with the MediaPackage API's URLs. With Tencent
// credentials every request must carry a valid TC3 signature; without
// them it is open on a loopback address or with --insecure, and refuses
// every request (AuthFailure.SecretIdNotFound) otherwise.
func newTencentAPI(cfg *Config, cat *catalog.Catalog, harv *harvest.Service, store *archive.Store, mp *mediapackage.API, log *slog.Logger) *tencent.API {
	api := &tencent.API{
		Catalog: cat, Harvester: harv, PublicURL: mp.PublicURL, IngestURLs: mp.IngestURLs, Logger: log,
		FirstMedia: func(channel string) (time.Time, bool) {
			r, err := store.Ranges(channel)
			if err != nil || len(r.Spans) == 0 {
				return time.Time{}, false
			}
			return r.Spans[0].Start, true
		},
	}
	switch {
	case cfg.TencentSecretID != "":
		api.Verifier = &tc3.Verifier{Service: tencent.Service, Credentials: map[string]string{cfg.TencentSecretID: cfg.TencentSecretKey}}
	case !cfg.Insecure && !isLoopback(cfg.HTTPAddr):
		api.Verifier = &tc3.Verifier{Service: tencent.Service, Credentials: map[string]string{}}
	}
	return api
}

// ingestURLs are a channel's ingest endpoints, in the order of their Ids:
// the MediaPackage v2 push URLs of inputs 1 and 2 (HLS: ".../index", CMAF:
// ".../"; on the HTTP address or the public URL), then the RTSP URL (the
// bound RTSP address, with the public URL's host when one is set). It is
// the one place that shapes ingest URLs.
func ingestURLs(cfg *Config, cat *catalog.Catalog, httpSrv *origin.Server, rtspBound *string, group, channel string) []string {
	base := "http://" + httpSrv.Addr()
	if cfg.PublicURL != "" {
		base = strings.TrimSuffix(cfg.PublicURL, "/")
	}
	inputType := httpush.InputHLS
	if ch, err := cat.Channel(group, channel); err == nil && ch.InputType != "" {
		inputType = ch.InputType
	}
	urls := httpush.URLs(base, group, channel, inputType)
	addr := cfg.RTSPAddr
	if rtspBound != nil {
		addr = *rtspBound
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return urls
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && cfg.PublicURL != "" && u.Hostname() != "" {
		host = u.Hostname()
	}
	return append(urls, "rtsp://"+net.JoinHostPort(host, port)+"/"+group+"/"+channel)
}

// newPushIngest builds the HTTP push ingest: channels must exist unless
// auto-provisioning is on, and take the push form of their InputType; a
// CMAF-input channel's InputSwitchConfiguration drives MQCS input switching.
func newPushIngest(cfg *Config, cat *catalog.Catalog, h ingest.Handler, log *slog.Logger) *httpush.Server {
	return &httpush.Server{
		Handler: h,
		MaxBody: cfg.IngestMaxBody,
		Logger:  log,
		Switching: func(group, channel string) httpush.Switching {
			ch, err := cat.Channel(group, channel)
			if err != nil || ch.InputSwitchConfiguration == nil {
				return httpush.Switching{}
			}
			sw := httpush.Switching{}
			if p := ch.InputSwitchConfiguration.MQCSInputSwitching; p != nil {
				sw.MQCS = *p
			}
			if p := ch.InputSwitchConfiguration.PreferredInput; p != nil {
				sw.Preferred = *p
			}
			return sw
		},
		Lookup: func(group, channel string) (string, error) {
			ch, err := cat.Channel(group, channel)
			switch {
			case err == nil:
				return ch.InputType, nil
			case !errors.Is(err, catalog.ErrNotFound):
				return "", err
			case cfg.AutoProvision:
				return "", nil
			default:
				return "", fmt.Errorf("%s/%s: %w", group, channel, ingest.ErrNotFound)
			}
		},
	}
}

// runIndex runs `rewind index rebuild`.
func runIndex(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprint(stderr, "Usage: rewind index rebuild --data-dir DIR\n")
		return 2
	}
	fs := flag.NewFlagSet("rewind index rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "./data", "data folder of the archive (env "+envName("data-dir")+")")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: rewind index rebuild --data-dir DIR\n\n"+
			"Makes a new index of the archive from its media logs and index.journal. The previous\n"+
			"index folder and anything the logs cannot account for are moved to DIR/lost+found.\n"+
			"Rewind must be stopped.\n\n")
		fs.PrintDefaults()
	}
	if v := getenv(envName("data-dir")); v != "" {
		*dataDir = v
	}
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rewind: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log := newLogger(&Config{LogLevel: *logLevel}, stderr)
	if _, err := os.Stat(filepath.Join(*dataDir, "media")); err != nil {
		fmt.Fprintf(stderr, "rewind: %s is not a Rewind data folder: %v\n", *dataDir, err)
		return 1
	}
	r, err := archive.Rebuild(archive.Config{Dir: *dataDir, Logger: log.With("component", "archive")})
	if err != nil {
		fmt.Fprintf(stderr, "rewind: index rebuild: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "rebuilt the index of %s: %d segments from %d media logs, %d channels, %d items moved to %s, in %s\n",
		*dataDir, r.Segments, r.Logs, r.Channels, r.Quarantined, filepath.Join(*dataDir, "lost+found"), r.Took.Round(time.Millisecond))
	return 0
}

// readBatch maps the ingest-read-batch setting (0 = off) to
// ingest.RTSPServer's and RTMPServer's ReadBatch (0 = default, < 0 = off).
func readBatch(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
