// Package s3 is the S3-compatible destination of harvest jobs (AWS S3,
// Tencent COS, MinIO, versitygw...). Objects are streamed from byte ranges
// of the archive's media logs (io.SectionReader over the log file): a
// single PutObject with a known ContentLength below PartSize, a multipart
// upload of PartSize parts above it. No object is held whole in memory.
//
// The same Target stores the archive's packs (cmd wires it as an
// archive.PackStore): PutNew writes an object only where none exists
// (If-None-Match: *), ReadRange reads a byte range (Range GET), Size
// reads an object's size (HEAD), Delete removes one. A Copier (Target.Copier)
// also writes objects from ranges of the pack objects inside the service
// (UploadPartCopy), without reading them.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/harvest/export"
)

// ErrExists is returned (errors.Is) by PutNew when an object exists
// under the key (HTTP 412 Precondition Failed).
var ErrExists = errors.New("s3: object exists")

// Defaults.
const (
	// DefaultPartSize is the multipart threshold and part size (S3's
	// minimum part size is 5 MiB).
	DefaultPartSize = 8 << 20
	minPartSize     = 5 << 20
)

// Config is an S3-compatible bucket.
type Config struct {
	// Endpoint is the service URL; empty means AWS S3.
	Endpoint string
	Region   string
	Bucket   string
	// AccessKey and SecretKey; both empty uses the SDK's default chain.
	AccessKey, SecretKey string
	// PathStyle addresses objects as Endpoint/bucket/key.
	PathStyle bool
	// PartSize is the multipart threshold and part size (default 8 MiB).
	PartSize int64
}

// Target writes the objects of one package under Prefix of a bucket.
// Safe for concurrent use.
type Target struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ending with "/"
	partSize int64
}

// New returns a Target for cfg whose object keys start with prefix (a
// cleaned relative path, "" for the bucket root).
func New(ctx context.Context, cfg Config, prefix string) (*Target, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	region := cfg.Region
	if region == "" {
		region = mpv2.DefaultRegion
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: config: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// A checksum only when the operation requires one: the SDK would
		// otherwise read every body twice.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		// Range reads of packs: a part of an object has no checksum to check.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	part := cfg.PartSize
	if part <= 0 {
		part = DefaultPartSize
	}
	part = max(part, minPartSize)
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Target{client: client, bucket: cfg.Bucket, prefix: prefix, partSize: part}, nil
}

// Key is the object key of a package object name.
func (t *Target) Key(name string) string { return t.prefix + name }

// WriteSection uploads the byte ranges secs, one after the other, as name.
func (t *Target) WriteSection(ctx context.Context, name string, secs ...export.Section) error {
	body := export.Sections(secs)
	if size := body.Size(); size <= t.partSize {
		return t.put(ctx, name, io.NewSectionReader(body, 0, size), size, nil)
	}
	return t.multipart(ctx, name, body)
}

// WriteBytes uploads b as name.
func (t *Target) WriteBytes(ctx context.Context, name string, b []byte) error {
	return t.put(ctx, name, bytes.NewReader(b), int64(len(b)), nil)
}

// put uploads body as name in one PutObject, with an If-None-Match
// condition when ifNoneMatch is set (a 412 then gives ErrExists).
func (t *Target) put(ctx context.Context, name string, body io.ReadSeeker, size int64, ifNoneMatch *string) error {
	_, err := t.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(t.bucket),
		Key:           aws.String(t.Key(name)),
		Body:          body,
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(contentType(name)),
		IfNoneMatch:   ifNoneMatch,
	})
	if ifNoneMatch != nil && status(err) == http.StatusPreconditionFailed {
		return fmt.Errorf("s3: put %s: %w", t.Key(name), ErrExists)
	}
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", t.Key(name), err)
	}
	return nil
}

// multipart uploads body in PartSize parts, each streamed from its own
// section reader, and aborts the upload on failure.
func (t *Target) multipart(ctx context.Context, name string, body export.Sections) error {
	size := body.Size()
	return t.inMultipart(ctx, name, func(key string, id *string) ([]types.CompletedPart, error) {
		var parts []types.CompletedPart
		for n, pos := int32(1), int64(0); pos < size; n, pos = n+1, pos+t.partSize {
			l := min(t.partSize, size-pos)
			out, err := t.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: aws.String(t.bucket), Key: aws.String(key), UploadId: id,
				PartNumber: aws.Int32(n), Body: io.NewSectionReader(body, pos, l), ContentLength: aws.Int64(l),
			})
			if err != nil {
				return nil, fmt.Errorf("s3: upload part %d of %s: %w", n, key, err)
			}
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
		}
		return parts, nil
	})
}

// inMultipart stores name as one multipart upload whose parts upload
// sends (given the object key and the upload id): it creates the upload,
// completes it with the parts upload returns, and aborts it when upload or
// the completion fails, so no object is created or replaced then.
func (t *Target) inMultipart(ctx context.Context, name string, upload func(key string, id *string) ([]types.CompletedPart, error)) (err error) {
	key := t.Key(name)
	up, err := t.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(t.bucket), Key: aws.String(key), ContentType: aws.String(contentType(name)),
	})
	if err != nil {
		return fmt.Errorf("s3: create multipart %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			// The upload's context may be gone: abort on a fresh one.
			_, _ = t.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
				Bucket: aws.String(t.bucket), Key: aws.String(key), UploadId: up.UploadId,
			})
		}
	}()
	parts, err := upload(key, up.UploadId)
	if err != nil {
		return err
	}
	_, err = t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(t.bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("s3: complete multipart %s: %w", key, err)
	}
	return nil
}

// PutNew uploads size bytes of body as name with If-None-Match: *, so an
// existing object is never overwritten: then it returns an error matching
// ErrExists. Stores that ignore the condition (older S3-compatible
// servers) overwrite; the object keys of packs never repeat, which keeps
// that harmless. One PutObject: body must be under 5 GiB.
func (t *Target) PutNew(ctx context.Context, name string, body io.ReadSeeker, size int64) error {
	return t.put(ctx, name, body, size, aws.String("*"))
}

// ReadRange returns the n bytes of object name from off (one Range GET);
// the caller closes the body. A server that answers with another range
// (or the whole object) gives an error.
func (t *Target) ReadRange(ctx context.Context, name string, off, n int64) (io.ReadCloser, error) {
	if off < 0 || n <= 0 {
		return nil, fmt.Errorf("s3: get %s: bad range [%d, +%d)", t.Key(name), off, n)
	}
	want := fmt.Sprintf("bytes %d-%d/", off, off+n-1)
	out, err := t.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(t.bucket),
		Key:    aws.String(t.Key(name)),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1)),
	})
	if err != nil {
		return nil, fmt.Errorf("s3: get %s: %w", t.Key(name), err)
	}
	if !strings.HasPrefix(aws.ToString(out.ContentRange), want) || aws.ToInt64(out.ContentLength) != n {
		out.Body.Close()
		return nil, fmt.Errorf("s3: get %s: asked for %s, got Content-Range %q and %d bytes",
			t.Key(name), want, aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength))
	}
	return out.Body, nil
}

// Size returns the size of object name (one HeadObject).
func (t *Target) Size(ctx context.Context, name string) (int64, error) {
	out, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.Key(name))})
	if err != nil {
		return 0, fmt.Errorf("s3: head %s: %w", t.Key(name), err)
	}
	if out.ContentLength == nil {
		return 0, fmt.Errorf("s3: head %s: no Content-Length", t.Key(name))
	}
	return *out.ContentLength, nil
}

// Delete removes object name (S3 answers success for a missing one).
func (t *Target) Delete(ctx context.Context, name string) error {
	_, err := t.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.Key(name))})
	if err != nil && status(err) != http.StatusNotFound {
		return fmt.Errorf("s3: delete %s: %w", t.Key(name), err)
	}
	return nil
}

// status is the HTTP status of a failed S3 call, 0 if none.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// contentType is the MIME type of a package object.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".mpd":
		return "application/dash+xml"
	case ".mp4":
		return "video/mp4"
	case ".m4s", ".cmf":
		return "video/iso.segment"
	}
	return "application/octet-stream"
}
