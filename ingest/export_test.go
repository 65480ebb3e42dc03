package ingest

// ParsePublishPath exposes the RTSP path validation to package ingest_test.
var ParsePublishPath = parsePublishPath
