//go:build ignore

// nethttp_floor serves one file's bytes with Go's net/http and the headers
// Rewind sends for a cached manifest: the floor of Go's HTTP server for
// that response, measured by .ci/bench.sh beside Rewind and nginx. It
// listens on loopback only.
//
//	go run .ci/nethttp_floor.go 127.0.0.1:PORT FILE MIME
package main

import (
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: nethttp_floor 127.0.0.1:PORT FILE MIME")
	}
	host, _, err := net.SplitHostPort(os.Args[1])
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("%s: want a loopback address", os.Args[1])
	}
	body, err := os.ReadFile(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	one := func(v string) []string { return []string{v} }
	header := http.Header{
		"Access-Control-Allow-Origin":   one("*"),
		"Access-Control-Allow-Methods":  one("GET, HEAD, OPTIONS"),
		"Access-Control-Allow-Headers":  one("Range, If-None-Match"),
		"Access-Control-Expose-Headers": one("Content-Length, Content-Range, ETag, Date"),
		"Cache-Control":                 one("public, max-age=1"),
		"Etag":                          one(`"0123456789abc"`),
		"Content-Type":                  one(os.Args[3]),
		"Content-Length":                one(strconv.Itoa(len(body))),
	}
	log.Fatal(http.ListenAndServe(os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		_, _ = w.Write(body)
	})))
}
