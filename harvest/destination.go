package harvest

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/harvest/s3"
)

// bucketOf resolves a destination bucket name: a configured bucket, or,
// with none configured, the local folder DataDir/buckets/<bucket>. An
// unknown bucket is a ValidationException
// (HARVEST_JOB_S3_DESTINATION_MISSING_OR_INCOMPLETE).
func (s *Service) bucketOf(name string) (Bucket, error) {
	if len(s.Config.Buckets) == 0 {
		if err := validateBucketName(name); err != nil {
			return Bucket{}, err
		}
		return Bucket{Local: filepath.Join(s.DataDir, "buckets", name)}, nil
	}
	b, ok := s.Config.Buckets[name]
	if !ok {
		return Bucket{}, validationErr(VTDestinationIncomplete, "bucket %q is not configured in Rewind's harvest buckets", name)
	}
	return b, nil
}

// target opens the package destination of a job and returns it with its
// close function and the number of segments to copy at the same time.
func (s *Service) target(ctx context.Context, d *S3Destination) (export.Target, func() error, int, error) {
	b, err := s.bucketOf(d.BucketName)
	if err != nil {
		return nil, nil, 0, err
	}
	prefix, err := export.CleanPrefix(d.DestinationPath)
	if err != nil {
		return nil, nil, 0, err
	}
	if b.S3 == nil {
		l, err := export.OpenLocal(b.Local, prefix)
		if err != nil {
			return nil, nil, 0, err
		}
		return l, l.Close, export.LocalParallel, nil
	}
	bucket := b.S3.Bucket
	if bucket == "" {
		bucket = d.BucketName
	}
	t, err := s3.New(ctx, s3.Config{
		Endpoint: b.S3.Endpoint, Region: b.S3.Region, Bucket: bucket,
		AccessKey: b.S3.AccessKey, SecretKey: b.S3.SecretKey, PathStyle: b.S3.PathStyle,
	}, prefix)
	if err != nil {
		return nil, nil, 0, err
	}
	if s.Packs != nil && SameService(b.S3, s.Packs) {
		return t.Copier(s.Packs.Bucket), func() error { return nil }, 8, nil
	}
	return t, func() error { return nil }, 8, nil
}

// SameService reports whether a harvest destination can copy from the
// bucket of the archive's packs inside the S3 service: dst does not set
// NoPackCopy, and both have the same endpoint (the same URL once a
// trailing slash is dropped; both empty: AWS S3), the same region (empty
// is us-east-1) and the same credentials (access and secret key; both
// empty: the SDK's default chain of this process), so the identity that
// writes the packs is the one that reads them. Anything else, even the
// same server under another host name, uploads as without packs.
func SameService(dst, packs *S3Bucket) bool {
	region := func(r string) string {
		if r == "" {
			return mpv2.DefaultRegion
		}
		return r
	}
	return !dst.NoPackCopy && packs.Bucket != "" &&
		strings.TrimSuffix(dst.Endpoint, "/") == strings.TrimSuffix(packs.Endpoint, "/") &&
		region(dst.Region) == region(packs.Region) &&
		dst.AccessKey == packs.AccessKey && dst.SecretKey == packs.SecretKey
}
