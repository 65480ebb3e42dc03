package scte35_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/packager/scte35"
)

// casesSection are sections published with their encoding by others: the
// encoder must reproduce them byte for byte, CRC included.
var casesSection = []struct {
	name    string
	section scte35.Section
	encoded string // base64
}{
	{
		// AWS Elemental Live's EXT-X-DATERANGE example, SCTE35-OUT (hex there).
		name: "splice_insert out, 30 s break (AWS Elemental example)",
		section: scte35.Section{Tier: 0xFFF, SpliceInsert: &scte35.SpliceInsert{
			EventID: 999, OutOfNetwork: true, PTSTime: 0x0011FB9E,
			HasDuration: true, AutoReturn: true, Duration: 2700000,
			UniqueProgramID: 1, AvailNum: 1, AvailsExpected: 1,
		}},
		encoded: hexToBase64("FC302500000000000000FFF01405000003E77FEFFE0011FB9EFE002932E00001010100004D192A59"),
	},
	{
		// SCTE 35 (2019) §14.1: time_signal, Placement Opportunity Start.
		name: "time_signal provider placement opportunity start (SCTE 35 14.1)",
		section: scte35.Section{CWIndex: 0xFF, Tier: 0xFFF,
			TimeSignal: &scte35.TimeSignal{TimeSpecified: true, PTSTime: 0x072BD0050},
			Segmentation: []scte35.SegmentationDescriptor{{
				EventID: 0x4800008E, Restricted: true, NoRegionalBlackout: true, ArchiveAllowed: true, DeviceRestrictions: 3,
				HasDuration: true, Duration: 0x0001A599B0,
				UPIDType: 0x08, UPID: []byte{0, 0, 0, 0, 0x2C, 0xA0, 0xA1, 0x8A},
				TypeID: 0x34, SegmentNum: 2,
			}},
		},
		encoded: "/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==",
	},
	{
		// SCTE 35 (2019) §14.3: time_signal, Placement Opportunity End.
		name: "time_signal provider placement opportunity end (SCTE 35 14.3)",
		section: scte35.Section{CWIndex: 0xFF, Tier: 0xFFF,
			TimeSignal: &scte35.TimeSignal{TimeSpecified: true, PTSTime: 0x0746290A0},
			Segmentation: []scte35.SegmentationDescriptor{{
				EventID: 0x4800008E, Restricted: true, WebDeliveryAllowed: true, NoRegionalBlackout: true, ArchiveAllowed: true, DeviceRestrictions: 3,
				UPIDType: 0x08, UPID: []byte{0, 0, 0, 0, 0x2C, 0xA0, 0xA1, 0x8A},
				TypeID: 0x35, SegmentNum: 2,
			}},
		},
		encoded: "/DAvAAAAAAAA///wBQb+dGKQoAAZAhdDVUVJSAAAjn+fCAgAAAAALKChijUCAKnMZ1g=",
	},
}

func hexToBase64(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestSectionMarshal(t *testing.T) {
	for _, c := range casesSection {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.section.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if enc := base64.StdEncoding.EncodeToString(got); enc != c.encoded {
				t.Errorf("got  %s\nwant %s", strings.ToUpper(hex.EncodeToString(got)), strings.ToUpper(hex.EncodeToString(mustBase64(t, c.encoded))))
			}
			if scte35.CRC32(got) != 0 {
				t.Errorf("the CRC of the whole section is %#x, want 0", scte35.CRC32(got))
			}
		})
	}
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCRC32(t *testing.T) {
	// The check value of CRC-32/MPEG-2.
	if got := scte35.CRC32([]byte("123456789")); got != 0x0376E6E7 {
		t.Errorf("CRC32(123456789) = %#08x, want 0x0376e6e7", got)
	}
}

func TestSectionMarshalInvalid(t *testing.T) {
	for name, s := range map[string]scte35.Section{
		"no command":   {},
		"two commands": {SpliceInsert: &scte35.SpliceInsert{}, TimeSignal: &scte35.TimeSignal{}},
		"pts too big":  {TimeSignal: &scte35.TimeSignal{TimeSpecified: true, PTSTime: 1 << 33}},
		"long upid":    {TimeSignal: &scte35.TimeSignal{}, Segmentation: []scte35.SegmentationDescriptor{{UPID: make([]byte, 256)}}},
	} {
		if _, err := s.Marshal(); !errors.Is(err, scte35.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}
