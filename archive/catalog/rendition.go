package catalog

import (
	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/packager/media"
)

// Rendition is what a manifest filter (mpv2.Filter) sees of a track over
// the segments a manifest lists, for the data plane and harvest alike: the
// bit rate is the peak the manifest states (BANDWIDTH, @bandwidth); audio
// is "und", as the multivariant playlist labels it (the archive keeps no
// language).
func Rendition(info media.TrackInfo, segs []media.Segment) mpv2.Rendition {
	peak, _ := media.Bandwidth(segs)
	r := mpv2.Rendition{Kind: info.Kind, Bitrate: peak, Codec: info.Codec}
	switch info.Kind {
	case media.KindVideo:
		r.Height, r.FrameRate = info.Height, info.FrameRate
	case media.KindAudio:
		r.Language, r.Channels, r.SampleRate = "und", info.Channels, info.SampleRate
	}
	return r
}
