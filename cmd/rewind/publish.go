package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/ingest"
)

// publishListeners are the RTMP and SRT publish listeners (RTSP is wired in
// serve); each is nil when its address is empty.
type publishListeners struct {
	rtmp  *ingest.RTMPServer
	srt   *ingest.SRTServer
	pulls []*ingest.RTSPPull
}

// startPublishListeners binds the RTMP and SRT listeners of cfg, handing
// their publications to h, and sets the publish credentials and refusal
// counter of rtsp (not yet initialized); refusals are counted in
// rewind_ingest_refused_total{protocol,reason}.
func startPublishListeners(cfg *Config, rtsp *ingest.RTSPServer, h ingest.Handler, reg prometheus.Registerer, log *slog.Logger) (*publishListeners, error) {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rewind_ingest_refused_total",
		Help: "Publishers refused, per protocol and reason (credentials, name, busy, other).",
	}, []string{"protocol", "reason"})
	if err := reg.Register(refused); err != nil {
		return nil, err
	}
	count := func(protocol string) func(ingest.Refusal) {
		return func(r ingest.Refusal) { refused.WithLabelValues(protocol, string(r)).Inc() }
	}
	creds := ingest.Credentials{User: cfg.PublishUser, Pass: cfg.PublishPass}
	rtsp.Credentials, rtsp.OnRefused = creds, count("rtsp")
	p := &publishListeners{}
	if cfg.RTMPAddr != "" {
		p.rtmp = &ingest.RTMPServer{Address: cfg.RTMPAddr, Handler: h, Logger: log, ReadTimeout: cfg.IngestTimeout,
			Credentials: creds, OnRefused: count("rtmp")}
		if err := p.rtmp.Initialize(); err != nil {
			return nil, fmt.Errorf("setting \"rtmp-addr\": %w", err)
		}
	}
	if cfg.SRTAddr != "" {
		p.srt = &ingest.SRTServer{Address: cfg.SRTAddr, Handler: h, Logger: log, ReadTimeout: cfg.IngestTimeout,
			Credentials: creds, OnRefused: count("srt")}
		if err := p.srt.Initialize(); err != nil {
			p.close()
			return nil, fmt.Errorf("setting \"srt-addr\": %w", err)
		}
	}
	if err := p.startPulls(cfg, h, reg, log); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// startPulls starts the RTSP pulls of cfg; their state is in
// rewind_pull_connected{channel} and rewind_pull_retries_total{channel}.
func (p *publishListeners) startPulls(cfg *Config, h ingest.Handler, reg prometheus.Registerer, log *slog.Logger) error {
	if len(cfg.Pull) == 0 {
		return nil
	}
	connected := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "rewind_pull_connected", Help: "1 while an RTSP pull is connected to its source and playing.",
	}, []string{"channel"})
	retries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rewind_pull_retries_total", Help: "RTSP pull connections that failed or dropped, retried with backoff (1 s to 30 s).",
	}, []string{"channel"})
	if err := reg.Register(connected); err != nil {
		return err
	}
	if err := reg.Register(retries); err != nil {
		return err
	}
	for _, src := range cfg.Pull {
		ch := src.Group + "/" + src.Channel
		conn, retry := connected.WithLabelValues(ch), retries.WithLabelValues(ch)
		conn.Set(0)
		var seen uint64
		pull := &ingest.RTSPPull{Source: src.Source, Group: src.Group, Channel: src.Channel, Transport: src.Transport,
			Handler: h, Logger: log.With("protocol", "rtsp-pull"), ReadTimeout: cfg.IngestTimeout,
			OnState: func(s ingest.PullState) {
				if s.Connected {
					conn.Set(1)
				} else {
					conn.Set(0)
				}
				retry.Add(float64(s.Retries - seen))
				seen = s.Retries
			}}
		if err := pull.Start(); err != nil {
			return fmt.Errorf("setting \"pull\": %w", err)
		}
		p.pulls = append(p.pulls, pull)
	}
	return nil
}

// close closes the listeners; every publication's Stream is closed when it returns.
func (p *publishListeners) close() {
	for _, pull := range p.pulls {
		pull.Close()
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
