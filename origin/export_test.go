package origin

// SetRenderHook makes s call f before every manifest render. Set it before
// the server serves.
func SetRenderHook(s *Server, f func()) { s.onRender = f }
