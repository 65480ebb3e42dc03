package dash

import "strconv"

// NamespaceDVB is the DVB-DASH extensions namespace (dvb:priority,
// dvb:weight of BaseURL).
const NamespaceDVB = "urn:dvb:dash-extensions:2014-1"

// ProfilesDVB is MPD@profiles of a DVB-DASH MPD (MediaPackage's Profiles
// DVB_DASH): the DVB-DASH profile and its ISO BMFF extended live profile.
const ProfilesDVB = "urn:dvb:dash:profile:dvb-dash:2014,urn:dvb:dash:profile:dvb-dash:isoff-ext-live:2014"

// ProgramInformation is the MPD's ProgramInformation element
// (MediaPackage's DASH ProgramInformation); empty fields are left out.
type ProgramInformation struct {
	Title, Source, Copyright string
	// Lang is ProgramInformation@lang; MoreInformationURL its
	// @moreInformationURL.
	Lang, MoreInformationURL string
}

// BaseURL is one BaseURL element of the MPD (MediaPackage's DASH
// BaseUrls). DVBPriority and DVBWeight (0: absent) are the DVB-DASH
// attributes.
type BaseURL struct {
	URL, ServiceLocation   string
	DVBPriority, DVBWeight int
}

// SchemeDVBReporting is the Reporting@schemeIdUri of DVB-DASH error
// reporting (ETSI TS 103 285 §10.12.3).
const SchemeDVBReporting = "urn:dvb:dash:reporting:2014"

// MetricsReporting is one DVB-DASH error-reporting target
// (MediaPackage's DvbSettings.ErrorMetrics): the URL players report
// DVBErrors to, and Probability, how many players in 1000 report
// (0: absent, which DVB-DASH reads as 1000).
type MetricsReporting struct {
	URL         string
	Probability int
}

// appendMetrics appends one Metrics element (metrics="DVBErrors") per
// reporting target, each with its Reporting descriptor.
func appendMetrics(b []byte, ms []MetricsReporting) []byte {
	for _, m := range ms {
		b = append(b, "  <Metrics metrics=\"DVBErrors\">\n    <Reporting"...)
		b = appendAttr(b, "schemeIdUri", SchemeDVBReporting)
		b = appendAttr(b, "value", "1")
		b = appendAttr(b, "dvb:reportingUrl", m.URL)
		if m.Probability > 0 {
			b = appendAttr(b, "dvb:probability", strconv.Itoa(m.Probability))
		}
		b = append(b, "/>\n  </Metrics>\n"...)
	}
	return b
}

// needsDVB reports whether a BaseURL uses the dvb: attributes.
func needsDVB(urls []BaseURL) bool {
	for _, u := range urls {
		if u.DVBPriority > 0 || u.DVBWeight > 0 {
			return true
		}
	}
	return false
}

// appendHeaderElements appends ProgramInformation and the BaseURLs, the
// first children of MPD.
func appendHeaderElements(b []byte, pi *ProgramInformation, urls []BaseURL) []byte {
	if pi != nil {
		b = append(b, "  <ProgramInformation"...)
		if pi.Lang != "" {
			b = appendAttr(b, "lang", pi.Lang)
		}
		if pi.MoreInformationURL != "" {
			b = appendAttr(b, "moreInformationURL", pi.MoreInformationURL)
		}
		b = append(b, ">\n"...)
		for _, e := range [][2]string{{"Title", pi.Title}, {"Source", pi.Source}, {"Copyright", pi.Copyright}} {
			if e[1] != "" {
				b = append(b, "    <"+e[0]+">"...)
				b = appendEscaped(b, e[1])
				b = append(b, "</"+e[0]+">\n"...)
			}
		}
		b = append(b, "  </ProgramInformation>\n"...)
	}
	for _, u := range urls {
		b = append(b, "  <BaseURL"...)
		if u.ServiceLocation != "" {
			b = appendAttr(b, "serviceLocation", u.ServiceLocation)
		}
		if u.DVBPriority > 0 {
			b = appendAttr(b, "dvb:priority", strconv.Itoa(u.DVBPriority))
		}
		if u.DVBWeight > 0 {
			b = appendAttr(b, "dvb:weight", strconv.Itoa(u.DVBWeight))
		}
		b = append(b, '>')
		b = appendEscaped(b, u.URL)
		b = append(b, "</BaseURL>\n"...)
	}
	return b
}
