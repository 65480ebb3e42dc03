package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest"
)

// publishAuth is what every publish listener checks: the server-wide
// credentials, each channel's own (which replace them), and the refusal
// counter rewind_ingest_refused_total{protocol,reason}.
type publishAuth struct {
	creds   ingest.Credentials
	lookup  ingest.ChannelCredentials
	refused *prometheus.CounterVec
}

// newPublishAuth registers the refusal counter and builds the lookup of a
// channel's own credentials: the catalog's (set through the API), else the
// config file's publish-credentials, else none (the server-wide ones apply).
func newPublishAuth(cfg *Config, cat *catalog.Catalog, reg prometheus.Registerer) (*publishAuth, error) {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rewind_ingest_refused_total",
		Help: "Publishers refused, per protocol and reason (credentials, name, busy, other).",
	}, []string{"protocol", "reason"})
	if err := reg.Register(refused); err != nil {
		return nil, err
	}
	fromFile := map[string]ingest.Credentials{}
	for _, c := range cfg.PublishCredentials {
		fromFile[c.Group+"/"+c.Channel] = ingest.Credentials{User: c.User, Pass: c.Pass}
	}
	lookup := func(group, channel string) (ingest.Credentials, bool, error) {
		ch, err := cat.Channel(group, channel)
		switch {
		case err == nil && ch.Publish != nil:
			return ingest.Credentials{User: ch.Publish.User, Pass: ch.Publish.Password}, true, nil
		case err != nil && !errors.Is(err, catalog.ErrNotFound):
			return ingest.Credentials{}, false, err
		}
		c, ok := fromFile[group+"/"+channel]
		return c, ok, nil
	}
	return &publishAuth{creds: ingest.Credentials{User: cfg.PublishUser, Pass: cfg.PublishPass}, lookup: lookup, refused: refused}, nil
}

// count returns the OnRefused hook of one protocol's listener.
func (a *publishAuth) count(protocol string) func(ingest.Refusal) {
	return func(r ingest.Refusal) { a.refused.WithLabelValues(protocol, string(r)).Inc() }
}

// publishListeners are the RTMP and SRT publish listeners (RTSP is wired in
// serve; each is nil when its address is empty) and the RTSP pulls.
type publishListeners struct {
	rtmp  *ingest.RTMPServer
	srt   *ingest.SRTServer
	pulls *pullSync
}

// startPublishListeners binds the RTMP and SRT listeners of cfg, handing
// their publications to h, sets the publish credentials and refusal
// counter of rtsp (not yet initialized), and starts the RTSP pulls of the
// config file and the catalog. The SCTE-35 cues of SRT feeds go to cueSink.
func startPublishListeners(cfg *Config, cat *catalog.Catalog, auth *publishAuth, rtsp *ingest.RTSPServer, h ingest.Handler, cueSink ingest.CueSink, reg prometheus.Registerer, log *slog.Logger) (*publishListeners, error) {
	rtsp.Credentials, rtsp.ChannelCredentials, rtsp.OnRefused = auth.creds, auth.lookup, auth.count("rtsp")
	p := &publishListeners{}
	if cfg.RTMPAddr != "" {
		p.rtmp = &ingest.RTMPServer{Address: cfg.RTMPAddr, Handler: h, Logger: log, ReadTimeout: cfg.IngestTimeout,
			ReadBatch:   readBatch(cfg.IngestReadBatch),
			Credentials: auth.creds, ChannelCredentials: auth.lookup, OnRefused: auth.count("rtmp")}
		if err := p.rtmp.Initialize(); err != nil {
			return nil, fmt.Errorf("setting \"rtmp-addr\": %w", err)
		}
	}
	if cfg.SRTAddr != "" {
		p.srt = &ingest.SRTServer{Address: cfg.SRTAddr, Handler: h, Logger: log, ReadTimeout: cfg.IngestTimeout,
			Credentials: auth.creds, ChannelCredentials: auth.lookup, OnRefused: auth.count("srt"), Cues: cueSink}
		if err := p.srt.Initialize(); err != nil {
			p.close()
			return nil, fmt.Errorf("setting \"srt-addr\": %w", err)
		}
	}
	pulls, err := startPullSync(cfg, cat, h, reg, log.With("protocol", "rtsp-pull"))
	if err != nil {
		p.close()
		return nil, err
	}
	p.pulls = pulls
	return p, nil
}

// close closes the listeners and pulls; every publication's Stream is
// closed when it returns.
func (p *publishListeners) close() {
	if p.pulls != nil {
		p.pulls.close()
	}
	if p.rtmp != nil {
		p.rtmp.Close()
	}
	if p.srt != nil {
		p.srt.Close()
	}
}

// addrs names the bound addresses for the start log line.
func (p *publishListeners) addrs() []any {
	var a []any
	if p.rtmp != nil {
		a = append(a, "rtmp", p.rtmp.Addr())
	}
	if p.srt != nil {
		a = append(a, "srt", p.srt.Addr())
	}
	return a
}
