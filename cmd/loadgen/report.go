package main

import (
	"syscall"
	"time"
)

// Report is the single JSON line loadgen prints.
type Report struct {
	Publishers      int     `json:"publishers"`
	Connected       int     `json:"connected"`
	ConnectFailures int     `json:"connect_failures"`
	DurationS       float64 `json:"duration_s"` // wall time from the first connect to the last close
	FramesSent      int64   `json:"frames_sent"`
	VideoFramesSent int64   `json:"video_frames_sent"`
	AudioFramesSent int64   `json:"audio_frames_sent"`
	PayloadBytes    int64   `json:"payload_bytes_sent"`
	LateFrames      int64   `json:"late_frames"` // written more than 100 ms behind schedule
	MaxLateMS       float64 `json:"max_late_ms"`
	WriteErrors     int64   `json:"write_errors"`  // frames not fully queued (queue full or closed)
	EndedEarly      int     `json:"ended_early"`   // publishers whose session broke before the end
	FirstError      string  `json:"first_error"`   // first connect or write error, "" if none
	LoadgenCPUS     float64 `json:"loadgen_cpu_s"` // user+system CPU seconds of loadgen itself
}

// summarize adds up the publishers' results.
func summarize(results []publisherResult, publishers int, wall, cpu time.Duration) Report {
	rep := Report{Publishers: publishers, DurationS: wall.Seconds(), LoadgenCPUS: cpu.Seconds()}
	var maxLate time.Duration
	for _, r := range results {
		if r.Connected {
			rep.Connected++
		} else {
			rep.ConnectFailures++
		}
		rep.FramesSent += r.Frames
		rep.VideoFramesSent += r.VideoFrames
		rep.AudioFramesSent += r.AudioFrames
		rep.PayloadBytes += r.Bytes
		rep.LateFrames += r.Late
		rep.WriteErrors += r.WriteErrors
		maxLate = max(maxLate, r.MaxLate)
		if r.Err != nil {
			rep.EndedEarly++
		}
		if rep.FirstError == "" {
			switch {
			case r.ConnectErr != nil:
				rep.FirstError = r.ConnectErr.Error()
			case r.Err != nil:
				rep.FirstError = r.Err.Error()
			}
		}
	}
	rep.MaxLateMS = float64(maxLate) / float64(time.Millisecond)
	return rep
}

// processCPU returns the user+system CPU time used by this process so far
// (0 if getrusage fails).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
