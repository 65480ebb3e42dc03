package scte35

// crcTable is the table of CRC-32/MPEG-2 (polynomial 0x04C11DB7, not
// reflected), computed once by the compiler-visible initializer below.
var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC32 is the CRC-32/MPEG-2 of b (initial value 0xFFFFFFFF, no final
// XOR), the CRC_32 of MPEG-2 sections: appended big-endian to a section, it
// makes the CRC of the whole section zero.
func CRC32(b []byte) uint32 {
	c := uint32(0xFFFFFFFF)
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	return c
}
