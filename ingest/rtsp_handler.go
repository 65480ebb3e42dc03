package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// Compile-time checks of the gortsplib callbacks rtspHandler implements.
var (
	_ gortsplib.ServerHandlerOnConnOpen     = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnConnClose    = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnRequest      = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnResponse     = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnSessionClose = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnAnnounce     = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnSetup        = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnRecord       = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnDecodeError  = (*rtspHandler)(nil)
	_ gortsplib.ServerHandlerOnPacketsLost  = (*rtspHandler)(nil)
)

// rtspHandler implements the gortsplib server callbacks for RTSPServer. It is
// a separate type so that the callbacks are not part of RTSPServer's API.
type rtspHandler struct {
	s *RTSPServer
}

// connState is kept in ServerConn.UserData to log connection-level failures
// (such as an SDP gortsplib could not parse) with the announced path.
type connState struct {
	remote string

	mu              sync.Mutex
	lastMethod      base.Method
	announcePath    string
	announceFailed  base.StatusCode // status of a refused ANNOUNCE, 0 if none
	refusalReported bool            // the refusal was already logged by OnAnnounce
}

func connStateOf(sc *gortsplib.ServerConn) *connState {
	cs, _ := sc.UserData().(*connState)
	if cs == nil {
		cs = &connState{remote: sc.NetConn().RemoteAddr().String()}
	}
	return cs
}

// pathLogAttrs names the channel of a raw request path for logs, even when
// the path is not valid.
func pathLogAttrs(path string) []any {
	if g, c, err := parsePublishPath(path); err == nil {
		return []any{"group", g, "channel", c}
	}
	return []any{"path", path}
}

// OnConnOpen implements gortsplib.ServerHandlerOnConnOpen.
func (h *rtspHandler) OnConnOpen(ctx *gortsplib.ServerHandlerOnConnOpenCtx) {
	ctx.Conn.SetUserData(&connState{remote: ctx.Conn.NetConn().RemoteAddr().String()})
}

// OnRequest implements gortsplib.ServerHandlerOnRequest.
func (h *rtspHandler) OnRequest(sc *gortsplib.ServerConn, req *base.Request) {
	cs := connStateOf(sc)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.lastMethod = req.Method
	if req.Method == base.Announce && req.URL != nil {
		cs.announcePath = req.URL.Path
	}
}

// OnResponse implements gortsplib.ServerHandlerOnResponse.
func (h *rtspHandler) OnResponse(sc *gortsplib.ServerConn, res *base.Response) {
	cs := connStateOf(sc)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.lastMethod == base.Announce && res.StatusCode != base.StatusOK {
		cs.announceFailed = res.StatusCode
	}
}

// OnConnClose implements gortsplib.ServerHandlerOnConnClose. A refused
// ANNOUNCE not yet logged (gortsplib refuses malformed SDP itself) is logged
// here with the channel and the cause.
func (h *rtspHandler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	cs := connStateOf(ctx.Conn)
	cs.mu.Lock()
	failed, reported, path := cs.announceFailed, cs.refusalReported, cs.announcePath
	cs.mu.Unlock()

	attrs := append(pathLogAttrs(path), "remote", cs.remote)
	if ctx.Error != nil {
		attrs = append(attrs, "error", ctx.Error.Error())
	}
	if failed != 0 && !reported {
		h.s.Logger.Warn("publish refused", append(attrs, "status", int(failed))...)
		return
	}
	h.s.Logger.Debug("rtsp connection closed", attrs...)
}

// OnAnnounce implements gortsplib.ServerHandlerOnAnnounce: it validates the
// path and the tracks, then calls Handler.Publish.
func (h *rtspHandler) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	cs := connStateOf(ctx.Conn)
	logger := h.s.Logger.With(append(pathLogAttrs(ctx.Path), "remote", cs.remote)...)

	refuseWith := func(r *refusal) (*base.Response, error) {
		cs.mu.Lock()
		cs.refusalReported = true
		cs.mu.Unlock()
		logger.Warn("publish refused", "status", int(r.status), "reason", r.reason, "error", r.err.Error())
		if h.s.OnRefused != nil {
			h.s.OnRefused(refusalKind(r.err))
		}
		return r.response(), r
	}

	// The channel's own credentials replace the default; an invalid path is
	// refused for its name after the default credentials are checked.
	group, channel, pathErr := parsePublishPath(ctx.Path)
	c := h.s.Credentials
	if pathErr == nil {
		var err error
		if c, err = credentialsFor(h.s.Credentials, h.s.ChannelCredentials, group, channel); err != nil {
			return refuseWith(refuse(base.StatusInternalServerError, "credentials unavailable", err))
		}
	}
	if c.Required() && !ctx.Conn.VerifyCredentials(ctx.Request, c.User, c.Pass) {
		// Without an Authorization header this is the challenge, not a refusal.
		if _, sent := ctx.Request.Header["Authorization"]; sent {
			logger.Warn("publish refused", "protocol", "rtsp", "reason", string(RefusedCredentials), "error", "wrong user or password")
			if h.s.OnRefused != nil {
				h.s.OnRefused(RefusedCredentials)
			}
			cs.mu.Lock()
			cs.refusalReported = true
			cs.mu.Unlock()
		}
		return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
	}
	if ctx.Session.UserData() != nil {
		return refuseWith(refuse(base.StatusBadRequest, "already publishing",
			errors.New("session already has a publication")))
	}
	if pathErr != nil {
		return refuseWith(refuse(base.StatusBadRequest, pathErr.Error(), pathErr))
	}
	specs, r := buildTracks(ctx.Description)
	if r != nil {
		return refuseWith(r)
	}

	tracks := make([]Track, len(specs))
	for i := range specs {
		tracks[i] = specs[i].track
	}
	pub := Publication{
		Group:      group,
		Channel:    channel,
		Tracks:     tracks,
		RemoteAddr: cs.remote,
		Protocol:   "rtsp",
	}
	stream, err := h.s.Handler.Publish(pub)
	if err != nil {
		return refuseWith(refusalFromHandler(fmt.Errorf("publish %s/%s: %w", group, channel, err)))
	}
	if stream == nil {
		return refuseWith(refuse(base.StatusInternalServerError, "no stream",
			errors.New("handler returned a nil Stream")))
	}

	ctx.Session.SetUserData(newPublisher(logger, pub, specs, stream))
	logger.Info("publish announced", "codecs", codecList(tracks), "tracks", trackLogValue(tracks))
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup. Only publishing is
// supported: SETUP outside an announced session is refused.
func (h *rtspHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if _, ok := ctx.Session.UserData().(*publisher); !ok {
		return &base.Response{StatusCode: base.StatusBadRequest, StatusMessage: "Bad Request: reading is not supported"},
			nil, errors.New("SETUP without ANNOUNCE: reading is not supported")
	}
	return &base.Response{StatusCode: base.StatusOK}, nil, nil
}

// OnRecord implements gortsplib.ServerHandlerOnRecord: units start flowing.
func (h *rtspHandler) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	p, ok := ctx.Session.UserData().(*publisher)
	if !ok {
		return &base.Response{StatusCode: base.StatusBadRequest}, errors.New("RECORD without ANNOUNCE")
	}
	p.startRecording(ctx.Session, time.Now())
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSessionClose implements gortsplib.ServerHandlerOnSessionClose: the
// Stream is closed, whether RECORD came or not.
func (h *rtspHandler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	if p, ok := ctx.Session.UserData().(*publisher); ok {
		p.close(time.Now(), ctx.Error)
	}
}

// OnDecodeError implements gortsplib.ServerHandlerOnDecodeError.
func (h *rtspHandler) OnDecodeError(ctx *gortsplib.ServerHandlerOnDecodeErrorCtx) {
	if p, ok := ctx.Session.UserData().(*publisher); ok {
		p.onDecodeError(time.Now(), ctx.Error)
	}
}

// OnPacketsLost implements gortsplib.ServerHandlerOnPacketsLost.
func (h *rtspHandler) OnPacketsLost(ctx *gortsplib.ServerHandlerOnPacketsLostCtx) {
	if p, ok := ctx.Session.UserData().(*publisher); ok {
		p.onPacketsLost(time.Now(), ctx.Lost)
	}
}

// trackLogValue summarises tracks for the announce log line.
func trackLogValue(tracks []Track) slog.Value {
	attrs := make([]slog.Attr, len(tracks))
	for i, t := range tracks {
		desc := fmt.Sprintf("%s clock=%d", t.Codec, t.ClockRate)
		if !t.Codec.IsVideo() {
			desc += fmt.Sprintf(" rate=%d channels=%d", t.SampleRate, t.ChannelCount)
		}
		attrs[i] = slog.String(fmt.Sprint(i), desc)
	}
	return slog.GroupValue(attrs...)
}
