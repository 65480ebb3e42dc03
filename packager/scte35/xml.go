package scte35

import "strconv"

// Namespace is the XML namespace of SCTE-35 elements in a DASH MPD (the
// scte35: prefix of both the XML and the binary scheme).
const Namespace = "urn:scte:scte35:2013:xml"

// AppendXML appends the section as a scte35:SpliceInfoSection element
// (SCTE 35's XML schema, as DASH's urn:scte:scte35:2013:xml scheme carries
// it), on one line, and returns the extended slice. The scte35 prefix must
// be bound to Namespace by the enclosing document.
func (s *Section) AppendXML(b []byte) []byte {
	b = append(b, `<scte35:SpliceInfoSection protocolVersion="0" ptsAdjustment="`...)
	b = strconv.AppendUint(b, s.PTSAdjustment, 10)
	b = append(b, `" tier="`...)
	b = strconv.AppendUint(b, uint64(s.Tier), 10)
	b = append(b, `">`...)
	if c := s.SpliceInsert; c != nil {
		b = append(b, `<scte35:SpliceInsert spliceEventId="`...)
		b = strconv.AppendUint(b, uint64(c.EventID), 10)
		b = append(b, `" spliceEventCancelIndicator="`...)
		b = strconv.AppendBool(b, c.Cancel)
		b = append(b, '"')
		if !c.Cancel {
			b = append(b, ` outOfNetworkIndicator="`...)
			b = strconv.AppendBool(b, c.OutOfNetwork)
			b = append(b, `" spliceImmediateFlag="`...)
			b = strconv.AppendBool(b, c.Immediate)
			b = append(b, `" uniqueProgramId="`...)
			b = strconv.AppendUint(b, uint64(c.UniqueProgramID), 10)
			b = append(b, `" availNum="`...)
			b = strconv.AppendUint(b, uint64(c.AvailNum), 10)
			b = append(b, `" availsExpected="`...)
			b = strconv.AppendUint(b, uint64(c.AvailsExpected), 10)
			b = append(b, `">`...)
			if !c.Immediate {
				b = append(b, `<scte35:Program><scte35:SpliceTime ptsTime="`...)
				b = strconv.AppendUint(b, c.PTSTime, 10)
				b = append(b, `"/></scte35:Program>`...)
			}
			if c.HasDuration {
				b = append(b, `<scte35:BreakDuration autoReturn="`...)
				b = strconv.AppendBool(b, c.AutoReturn)
				b = append(b, `" duration="`...)
				b = strconv.AppendUint(b, c.Duration, 10)
				b = append(b, `"/>`...)
			}
			b = append(b, `</scte35:SpliceInsert>`...)
		} else {
			b = append(b, `/>`...)
		}
	}
	if c := s.TimeSignal; c != nil {
		b = append(b, `<scte35:TimeSignal><scte35:SpliceTime`...)
		if c.TimeSpecified {
			b = append(b, ` ptsTime="`...)
			b = strconv.AppendUint(b, c.PTSTime, 10)
			b = append(b, '"')
		}
		b = append(b, `/></scte35:TimeSignal>`...)
	}
	for i := range s.Segmentation {
		b = s.Segmentation[i].appendXML(b)
	}
	return append(b, `</scte35:SpliceInfoSection>`...)
}

// appendXML appends a scte35:SegmentationDescriptor element.
func (d *SegmentationDescriptor) appendXML(b []byte) []byte {
	b = append(b, `<scte35:SegmentationDescriptor segmentationEventId="`...)
	b = strconv.AppendUint(b, uint64(d.EventID), 10)
	b = append(b, `" segmentationEventCancelIndicator="`...)
	b = strconv.AppendBool(b, d.Cancel)
	b = append(b, '"')
	if d.Cancel {
		return append(b, `/>`...)
	}
	if d.HasDuration {
		b = append(b, ` segmentationDuration="`...)
		b = strconv.AppendUint(b, d.Duration, 10)
		b = append(b, '"')
	}
	b = append(b, ` segmentationTypeId="`...)
	b = strconv.AppendUint(b, uint64(d.TypeID), 10)
	b = append(b, `" segmentNum="`...)
	b = strconv.AppendUint(b, uint64(d.SegmentNum), 10)
	b = append(b, `" segmentsExpected="`...)
	b = strconv.AppendUint(b, uint64(d.SegmentsExpected), 10)
	b = append(b, '"')
	if d.SubSegments {
		b = append(b, ` subSegmentNum="`...)
		b = strconv.AppendUint(b, uint64(d.SubSegmentNum), 10)
		b = append(b, `" subSegmentsExpected="`...)
		b = strconv.AppendUint(b, uint64(d.SubSegmentsExpected), 10)
		b = append(b, '"')
	}
	b = append(b, '>')
	if d.Restricted {
		b = append(b, `<scte35:DeliveryRestrictions webDeliveryAllowedFlag="`...)
		b = strconv.AppendBool(b, d.WebDeliveryAllowed)
		b = append(b, `" noRegionalBlackoutFlag="`...)
		b = strconv.AppendBool(b, d.NoRegionalBlackout)
		b = append(b, `" archiveAllowedFlag="`...)
		b = strconv.AppendBool(b, d.ArchiveAllowed)
		b = append(b, `" deviceRestrictions="`...)
		b = strconv.AppendUint(b, uint64(d.DeviceRestrictions), 10)
		b = append(b, `"/>`...)
	}
	if len(d.UPID) > 0 {
		b = append(b, `<scte35:SegmentationUpid segmentationUpidType="`...)
		b = strconv.AppendUint(b, uint64(d.UPIDType), 10)
		b = append(b, `" segmentationUpidFormat="hexbinary">`...)
		const digits = "0123456789ABCDEF"
		for _, x := range d.UPID {
			b = append(b, digits[x>>4], digits[x&15])
		}
		b = append(b, `</scte35:SegmentationUpid>`...)
	}
	return append(b, `</scte35:SegmentationDescriptor>`...)
}
