package cluster

import (
	"context"
	"encoding/json"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// AlignWindow is how close two nodes' decode times of a track's first
// sample must be for them to be taken as the same sample of one feed
// (AlignTrack): well above the difference of the receive times of one
// encoder's packets at two nodes, well below a GOP.
const AlignWindow = 250 * time.Millisecond

// alignTimeout bounds AlignTrack's etcd calls: a track's first sample is
// packaged late by at most that much when etcd is slow.
const alignTimeout = 2 * time.Second

// firstSample is the value under a track's session key.
type firstSample struct {
	DecodeTime uint64 `json:"decodeTime"`
	Timescale  uint32 `json:"timescale"`
	Node       string `json:"node"`
}

// AlignTrack agrees with the other nodes on the decode time of the first
// sample of a packaging session's track (a live.Router's Align). Decode
// times are anchored on each node's receive time, so two nodes ingesting
// one encoder differ by a few milliseconds, and so would their segment
// names. The first node to package the track's first sample stores its
// decode time in etcd (<prefix>/channels/<group/channel>/session/<track>);
// a node whose own decode time is within AlignWindow of the stored one (in
// the same timescale) returns the stored one, so every node publishes the
// same decode times, segment names and media sequence for that feed, and
// a player moved to another node (a shield's failover) sees one timeline.
// A decode time farther off (a new session of the feed, another feed)
// replaces the stored one and is returned unchanged. When etcd does not
// answer within 2 s the node keeps its own (logged).
func (c *Cluster) AlignTrack(channel, track string, timescale uint32, decodeTime uint64) uint64 {
	ctx, cancel := context.WithTimeout(c.ctx, alignTimeout)
	defer cancel()
	key := c.channelKey(channel, "session/"+track)
	window := uint64(AlignWindow) * uint64(timescale) / uint64(time.Second)
	near := func(r *clientv3.GetResponse) (uint64, bool) {
		if r == nil || len(r.Kvs) == 0 {
			return 0, false
		}
		var s firstSample
		if json.Unmarshal(r.Kvs[0].Value, &s) != nil || s.Timescale != timescale {
			return 0, false
		}
		d := max(s.DecodeTime, decodeTime) - min(s.DecodeTime, decodeTime)
		return s.DecodeTime, d <= window
	}
	aligned := func(dt uint64) uint64 {
		c.cfg.Logger.Info("cluster: decode times aligned with another node's", "channel", channel, "track", track,
			"shift_ticks", int64(dt-decodeTime), "timescale", timescale)
		return dt
	}
	resp, err := c.client.Get(ctx, key)
	if err != nil {
		c.cfg.Logger.Warn("cluster: decode times not aligned", "channel", channel, "track", track, "err", err)
		return decodeTime
	}
	if dt, ok := near(resp); ok {
		return aligned(dt)
	}
	rev := int64(0)
	if len(resp.Kvs) > 0 {
		rev = resp.Kvs[0].ModRevision
	}
	v, err := json.Marshal(firstSample{DecodeTime: decodeTime, Timescale: timescale, Node: c.cfg.Node})
	if err != nil {
		return decodeTime
	}
	// Store ours unless another node stored one meanwhile: then align with
	// it if it is near.
	txn, err := c.client.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpPut(key, string(v))).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		c.cfg.Logger.Warn("cluster: decode times not stored", "channel", channel, "track", track, "err", err)
		return decodeTime
	}
	if !txn.Succeeded && len(txn.Responses) > 0 {
		if dt, ok := near((*clientv3.GetResponse)(txn.Responses[0].GetResponseRange())); ok {
			return aligned(dt)
		}
	}
	return decodeTime
}
