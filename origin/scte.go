package origin

import (
	"bytes"
	"slices"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/scte35"
)

// cuesArchive reads a channel's SCTE-35 cues (origin/cues stores them).
type cuesArchive interface {
	Cues(channel string, from, to time.Time) ([]archive.Cue, error)
}

// windowCues returns the cues of the channel from the earliest segment
// start to the latest segment end of the window's tracks.
func (s *Server) windowCues(ch string, w *window) ([]scte35.Cue, error) {
	var from, to time.Time
	for _, t := range w.tracks {
		if len(t.segments) == 0 {
			continue
		}
		if st := t.segments[0].Start(); from.IsZero() || st.Before(from) {
			from = st
		}
		if e := t.segments[len(t.segments)-1].End(); e.After(to) {
			to = e
		}
	}
	return s.cuesBetween(ch, from, to)
}

// cuesBetween returns the cues of the channel in [from, to), decoded; a
// cue that does not decode is skipped. A zero from gives none.
func (s *Server) cuesBetween(ch string, from, to time.Time) ([]scte35.Cue, error) {
	if from.IsZero() {
		return nil, nil
	}
	stored, err := s.Archive.Cues(ch, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]scte35.Cue, 0, len(stored))
	for _, c := range stored {
		if cue, ok := scte35.ParseCue(c.Value); ok {
			out = append(out, cue)
		}
	}
	return out, nil
}

// hlsDateRanges are the EXT-X-DATERANGE tags of a media playlist whose
// manifest asks for DATERANGE ad markers (none for other manifests and
// I-frame playlists).
func (s *Server) hlsDateRanges(r *request, m catalog.HLSManifest, w *window) ([]hls.DateRange, error) {
	mk := scte35.ParseMarkers(r.endpoint.Segment.Scte, m.ScteHls, "AdMarkerHls")
	if mk.Marker != "DATERANGE" || r.iframes {
		return nil, nil
	}
	cues, err := s.windowCues(r.channelKey(), w)
	if err != nil {
		return nil, err
	}
	return hls.SCTE35DateRanges(cues, &mk), nil
}

// llhlsDateRanges are the EXT-X-DATERANGE tags of an LL-HLS playlist of
// segs (see hlsDateRanges).
func (s *Server) llhlsDateRanges(r *request, segs []media.Segment) ([]hls.DateRange, error) {
	m, _ := r.hlsManifest()
	mk := scte35.ParseMarkers(r.endpoint.Segment.Scte, m.ScteHls, "AdMarkerHls")
	if mk.Marker != "DATERANGE" || len(segs) == 0 {
		return nil, nil
	}
	cues, err := s.cuesBetween(r.channelKey(), segs[0].Start(), segs[len(segs)-1].End())
	if err != nil {
		return nil, err
	}
	return hls.SCTE35DateRanges(cues, &mk), nil
}

// applyScteDash sets the MPD's SCTE-35 EventStreams (AdMarkerDash BINARY
// or XML) and Period boundaries (PeriodTriggers): AVAILS starts Periods at
// the ad cues; a reconnect stays in its Period when the triggers are set
// without SOURCE_DISRUPTIONS and every track's init segments in the window
// are the same bytes (otherwise, and without triggers, every discontinuity
// starts a Period, as a change of init segment must).
func (s *Server) applyScteDash(mpd *dash.MPD, r *request, m catalog.DASHManifest, w *window) error {
	if len(m.PeriodTriggers) > 0 && !slices.Contains(m.PeriodTriggers, "SOURCE_DISRUPTIONS") {
		same, err := s.sameInits(r.channelKey(), w)
		if err != nil {
			return err
		}
		mpd.JoinDisruptions = same
	}
	mk := scte35.ParseMarkers(r.endpoint.Segment.Scte, m.ScteDash, "AdMarkerDash")
	avails := slices.Contains(m.PeriodTriggers, "AVAILS")
	if mk.Marker == "" && !avails {
		return nil
	}
	cues, err := s.windowCues(r.channelKey(), w)
	if err != nil {
		return err
	}
	mpd.ApplySCTE35(cues, &mk, avails)
	return nil
}

// sameInits reports whether, for every track of the window, the init
// segments of all its init versions are the same bytes.
func (s *Server) sameInits(ch string, w *window) (bool, error) {
	for _, t := range w.tracks {
		var first []byte
		seen := map[uint32]bool{}
		for _, sg := range t.segments {
			if seen[sg.InitVersion] {
				continue
			}
			seen[sg.InitVersion] = true
			b, err := s.Archive.Init(ch, t.info.Name, sg.InitVersion)
			if err != nil {
				return false, err
			}
			if len(seen) == 1 {
				first = b
			} else if !bytes.Equal(b, first) {
				return false, nil
			}
		}
	}
	return true, nil
}
