package live

import "github.com/rewind-origin/rewind/packager/media"

// Continuer is optionally implemented by a Writer (archive.Writer) that
// can continue the channel's session for a publication taking over from a
// redundant input ([ingest.Publication.Takeover]).
type Continuer interface {
	// ContinueSession is StartSession, except that the channel's latest
	// session continues (same init versions, no discontinuity) when the
	// tracks are its tracks and the first segment starts where it ended.
	ContinueSession(tracks []media.TrackInfo) error
}

// takeoverSink is the sink of a takeover publication: its first session
// asks the archive to continue the channel's latest one. Later sessions
// (a codec change, a resume after disk full) are new ones.
type takeoverSink struct {
	Writer
	c    Continuer
	used bool
}

// StartSession implements media.Sink.
func (s *takeoverSink) StartSession(tracks []media.TrackInfo) error {
	if s.used {
		return s.Writer.StartSession(tracks)
	}
	s.used = true
	return s.c.ContinueSession(tracks)
}
