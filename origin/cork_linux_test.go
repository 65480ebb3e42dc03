package origin

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// TestCorkConn: a media response corks its TCP connection and uncorks it
// when done; other contexts are left alone.
func TestCorkConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	corked := func() int {
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var gerr error
		if err := raw.Control(func(fd uintptr) {
			v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK)
		}); err != nil || gerr != nil {
			t.Fatal(err, gerr)
		}
		return v
	}
	uncork := corkConn(withConn(context.Background(), c))
	if corked() != 1 {
		t.Error("not corked during the response")
	}
	uncork()
	if corked() != 0 {
		t.Error("still corked after the response")
	}
	corkConn(context.Background())() // no connection: nothing to do, no panic
}
