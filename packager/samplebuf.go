package packager

import (
	"math/bits"
	"sync"
)

// Video sample buffers and chunk buffers are shared by every packager of
// the process: a sample's buffer is taken when its access unit arrives
// (avccSample) and given back once the chunk holding it has been encoded
// (the chunk is a copy), a chunk's buffer is given back when the sink's
// WriteChunk returns, so another track can fill them at once instead of
// allocating and zeroing new ones. Buffers come in size classes, four per power of two
// (a buffer is at most 25 % larger than asked, ~6 % on average), each a
// sync.Pool, so what is not reused is collected like any garbage.
const (
	// sampleBufMin: smaller samples are allocated, not pooled.
	sampleBufMin = 1 << 10
	// sampleBufMaxBits: samples above 1 << sampleBufMaxBits bytes are
	// allocated, not pooled.
	sampleBufMaxBits = 24
)

var sampleBufs [(sampleBufMaxBits - 10) * 4]sync.Pool

// sampleBufClass returns the pool index and capacity of a buffer of size
// bytes, or ok false when that size is not pooled.
func sampleBufClass(size int) (idx, capacity int, ok bool) {
	if size <= sampleBufMin || size > 1<<sampleBufMaxBits {
		return 0, 0, false
	}
	e := bits.Len(uint(size - 1)) // 1<<(e-1) < size <= 1<<e, e >= 11
	step := 1 << (e - 3)
	n := (size + step - 1) / step // 5..8
	return (e-11)*4 + n - 5, n * step, true
}

// getSampleBuf returns a buffer of length size; its bytes are not zeroed.
func getSampleBuf(size int) []byte {
	idx, capacity, ok := sampleBufClass(size)
	if !ok {
		return make([]byte, size)
	}
	if b, _ := sampleBufs[idx].Get().([]byte); b != nil {
		return b[:size]
	}
	return make([]byte, size, capacity)
}

// putSampleBuf gives back a buffer from getSampleBuf that nothing references
// any more. Buffers of other capacities are left to the garbage collector.
func putSampleBuf(b []byte) {
	idx, capacity, ok := sampleBufClass(cap(b))
	if !ok || capacity != cap(b) {
		return
	}
	sampleBufs[idx].Put(b[:0]) //nolint:staticcheck // SA6002: one small header allocation instead of a large zeroed buffer
}
