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
