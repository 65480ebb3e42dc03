package packager

import "testing"

// TestSampleBufClass checks the size classes of pooled sample buffers: a
// buffer fits its size with at most 25 % more, and a buffer given back goes
// to the pool its size is taken from.
func TestSampleBufClass(t *testing.T) {
	seen := map[int]int{} // pool index -> capacity
	for size := sampleBufMin + 1; size <= 1<<sampleBufMaxBits; size += 1 + size/97 {
		idx, capacity, ok := sampleBufClass(size)
		if !ok || idx < 0 || idx >= len(sampleBufs) {
			t.Fatalf("size %d: class %d, ok %v", size, idx, ok)
		}
		if capacity < size || capacity*4 > size*5 {
			t.Fatalf("size %d: capacity %d", size, capacity)
		}
		if c, dup := seen[idx]; dup && c != capacity {
			t.Fatalf("pool %d holds capacities %d and %d", idx, c, capacity)
		}
		seen[idx] = capacity
		if back, c, _ := sampleBufClass(capacity); back != idx || c != capacity {
			t.Fatalf("capacity %d of size %d goes back to pool %d (capacity %d), taken from %d", capacity, size, back, c, idx)
		}
	}
	for _, size := range []int{0, 1, sampleBufMin, 1<<sampleBufMaxBits + 1} {
		if _, _, ok := sampleBufClass(size); ok {
			t.Errorf("size %d is pooled", size)
		}
	}
	if b := getSampleBuf(5000); len(b) != 5000 || cap(b) != 5120 {
		t.Errorf("getSampleBuf(5000): len %d cap %d", len(b), cap(b))
	}
}
