package origin

import "net/http"

// SetRenderHook makes s call f before every manifest render. Set it before
// the server serves.
func SetRenderHook(s *Server, f func()) { s.onRender = f }

// ServeManifestHit is s.serveManifestHit: whether s answered req from the
// manifest cache before its gin engine.
func ServeManifestHit(s *Server, w http.ResponseWriter, req *http.Request) bool {
	return s.serveManifestHit(w, req)
}

// FastHandOvers is the number of connections s's fast path handed to
// net/http.
func FastHandOvers(s *Server) int64 { return s.fast.handedOver.Load() }

// WaitBackgroundRenders waits until the manifest renders in flight on s's
// cache when it is called (background renders included) have stored
// their result.
func WaitBackgroundRenders(s *Server) { s.manifests.waitRenders() }

// waitRenders waits for the renders in flight when it is called.
func (mc *manifestCache) waitRenders() {
	mc.mu.Lock()
	done := make([]chan struct{}, 0, len(mc.inflight))
	for _, c := range mc.inflight {
		done = append(done, c.done)
	}
	mc.mu.Unlock()
	for _, d := range done {
		<-d
	}
}
