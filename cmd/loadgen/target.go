package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
)

// errNotLoopback is returned for any target outside the loopback interface.
var errNotLoopback = errors.New("target is not a loopback address")

// checkTarget parses an RTSP address (host:port) and refuses anything but
// "localhost" or a loopback IP literal.
func checkTarget(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("target %q: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("target %q: missing port", addr)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("target %q: %w", addr, errNotLoopback)
	}
	return nil
}

// publishURL returns rtsp://addr/group/channel.
func publishURL(addr, group, channel string) string {
	u := url.URL{Scheme: "rtsp", Host: addr, Path: "/" + group + "/" + channel}
	return u.String()
}

// dialLoopback dials like net.Dialer but closes and refuses any connection
// whose peer is not on the loopback interface (a second guard behind
// checkTarget, e.g. against "localhost" resolving elsewhere).
func dialLoopback(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if tcp, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		_ = conn.Close()
		return nil, fmt.Errorf("peer %v: %w", conn.RemoteAddr(), errNotLoopback)
	}
	return conn, nil
}
