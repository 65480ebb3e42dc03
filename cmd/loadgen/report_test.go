package main

import (
	"errors"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	results := []publisherResult{
		{Connected: true, paceStats: paceStats{Frames: 10, VideoFrames: 4, AudioFrames: 6, Bytes: 1000, Late: 1, MaxLate: 150 * time.Millisecond}},
		{Connected: true, paceStats: paceStats{Frames: 5, VideoFrames: 2, AudioFrames: 3, Bytes: 500, WriteErrors: 2, MaxLate: 300 * time.Millisecond},
			Err: errors.New("write: closed")},
		{ConnectErr: errors.New("start recording: refused")},
	}
	rep := summarize(results, 3, 2*time.Second, 500*time.Millisecond)
	want := Report{
		Publishers: 3, Connected: 2, ConnectFailures: 1, DurationS: 2,
		FramesSent: 15, VideoFramesSent: 6, AudioFramesSent: 9, PayloadBytes: 1500,
		LateFrames: 1, MaxLateMS: 300, WriteErrors: 2, EndedEarly: 1,
		FirstError: "write: closed", LoadgenCPUS: 0.5,
	}
	if rep != want {
		t.Errorf("summarize:\n got %+v\nwant %+v", rep, want)
	}
}
