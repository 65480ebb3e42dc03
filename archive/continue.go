package archive

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rewind-origin/rewind/packager/media"
)

// defaultFrameUs is the frame duration assumed for a video track whose
// frame rate is unknown (30 fps), in µs.
const defaultFrameUs = 33_333

// ContinueSession starts the session of a publication that takes over the
// channel from another (a redundant input after a failover). When tracks
// are those of the channel's latest session (same names, kinds, codecs,
// timescales, dimensions and init bytes), nothing is written yet: the
// first segment of the session decides. If it starts where its track's
// last segment ended, or exactly one segment later (one segment missing,
// listed as a gap), within half the longest frame of the tracks, the
// latest session continues: same init versions, no discontinuity. Else,
// and when the tracks differ, it is [Writer.StartSession].
//
// The decision is judged on the archive's timeline, the decode times the
// packager gives the chunks. A continued session writes nothing to the
// journal: its segments carry the session and init versions already
// journaled.
func (w *Writer) ContinueSession(tracks []media.TrackInfo) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.prepareSession(tracks); err != nil {
		return err
	}
	defer w.s.leave()
	var (
		cs   channelState
		tws  []*trackWriter
		same bool
	)
	err := w.s.db.View(func(txn *badger.Txn) error {
		var err error
		cs, tws, same, err = w.latestSession(txn, tracks)
		return err
	})
	if err != nil {
		return fmt.Errorf("archive: continue session of %q: %w", w.channel, err)
	}
	if !same {
		w.s.log.Info("takeover starts a new session: its tracks differ from the archived ones", "channel", w.channel)
		return w.newSession(tracks)
	}
	w.session = cs.Session
	w.tracks = tws
	w.pending = tracks
	w.continueTolUs = continueTolerance(tracks)
	w.edge.startSession(tws)
	return nil
}

// latestSession returns the channel's latest session and, when tracks
// are its tracks, their writers in the order of tracks (with the archived
// TrackInfo, so that what the logs carry matches the journal).
func (w *Writer) latestSession(txn *badger.Txn, tracks []media.TrackInfo) (channelState, []*trackWriter, bool, error) {
	var cs channelState
	found, err := getJSON(txn, channelStateKey(w.id), &cs)
	if err != nil || !found || len(cs.Tracks) != len(tracks) {
		return cs, nil, false, err
	}
	tws := make([]*trackWriter, len(tracks))
	for i, info := range tracks {
		version := uint32(0)
		for _, st := range cs.Tracks {
			if st.Name == info.Name {
				version = st.InitVersion
			}
		}
		var st trackState
		if _, err := getJSON(txn, trackStateKey(w.id, info.Name), &st); err != nil {
			return cs, nil, false, err
		}
		var ir initRecord
		found, err := getJSON(txn, initKey(w.id, info.Name, version), &ir)
		if err != nil {
			return cs, nil, false, err
		}
		if version == 0 || !found || st.InitVersion != version || ir.Session != cs.Session || !sameTrack(ir.Info, info) {
			return cs, nil, false, nil
		}
		tws[i] = &trackWriter{info: ir.Info, audio: ir.Info.Kind == media.KindAudio, state: st, disc: true}
	}
	return cs, tws, true, nil
}

// sameTrack reports whether a track can continue an archived one: what
// its init segment and manifests announce is the same (a measured frame
// rate may differ).
func sameTrack(a, b media.TrackInfo) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.Codec == b.Codec && a.Timescale == b.Timescale &&
		a.Width == b.Width && a.Height == b.Height && a.SampleRate == b.SampleRate && a.Channels == b.Channels &&
		bytes.Equal(a.Init, b.Init)
}

// continueTolerance is half the longest frame of the tracks, in µs: a
// video frame (30 fps when unknown) or an AAC frame of 1024 samples.
func continueTolerance(tracks []media.TrackInfo) uint64 {
	var frame uint64
	for _, t := range tracks {
		f := uint64(0)
		switch {
		case t.Kind == media.KindVideo && t.FrameRate > 0:
			f = uint64(float64(time.Second/time.Microsecond) / t.FrameRate)
		case t.Kind == media.KindVideo:
			f = defaultFrameUs
		case t.SampleRate > 0:
			f = 1024 * uint64(time.Second/time.Microsecond) / uint64(t.SampleRate)
		}
		frame = max(frame, f)
	}
	return max(frame/2, 1)
}

// linesUp reports whether a segment starting at startUs continues a track
// whose state is st: it starts where the last segment ended, or one
// segment (as long as the last one) later, within tolUs.
func linesUp(st trackState, startUs, tolUs uint64) bool {
	if st.NextSeq == 0 || st.LastEndUs == 0 {
		return false
	}
	near := func(a, b uint64) bool { return max(a, b)-min(a, b) <= tolUs }
	return near(startUs, st.LastEndUs) || near(startUs, 2*st.LastEndUs-st.LastStartUs)
}

// decideContinue decides, at the first segment of a session started by
// ContinueSession, whether it continues the latest session; if not, it
// starts a new one. It returns the writer of c's track. w.mu is held; the
// locks below it are StartSession's, in the same order (Store.enter, then
// jmu in newSession, released before anything takes Store.mu).
func (w *Writer) decideContinue(t *trackWriter, c media.Chunk) (*trackWriter, error) {
	tracks := w.pending
	w.pending = nil
	startUs := ticksToMicros(c.DecodeTime, t.info.Timescale)
	gap := time.Duration(int64(startUs)-int64(t.state.LastEndUs)) * time.Microsecond
	if linesUp(t.state, startUs, w.continueTolUs) {
		for _, tw := range w.tracks {
			tw.disc = false
		}
		w.s.log.Info("takeover continues the session", "channel", w.channel, "track", t.info.Name,
			"session", w.session, "gap", gap)
		return t, nil
	}
	w.s.log.Info("takeover starts a new session: its timeline does not line up", "channel", w.channel,
		"track", t.info.Name, "gap", gap, "tolerance", time.Duration(w.continueTolUs)*time.Microsecond)
	if err := w.s.enter(); err != nil {
		return nil, err
	}
	defer w.s.leave()
	if err := w.newSession(tracks); err != nil {
		w.tracks = nil // no session: the tentative one is not the archive's
		return nil, err
	}
	return w.track(c.Track)
}
