package s3

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rewind-origin/rewind/harvest/export"
)

// Copier is a Target that also copies ranges of the archive's pack
// objects, in a bucket of the same S3 service, into its objects without
// reading them: export.PackCopier.
type Copier struct {
	*Target
	packBucket string
}

var _ export.PackCopier = (*Copier)(nil)

// Copier returns t copying from packBucket. The service must let t's
// credentials read packBucket (GetObject) to copy from it.
func (t *Target) Copier(packBucket string) *Copier {
	return &Copier{Target: t, packBucket: packBucket}
}

// WriteParts stores parts as name in one multipart upload: a part with
// Pack is an UploadPartCopy of the pack object (x-amz-copy-source
// packBucket/key, x-amz-copy-source-range of the part), the others an
// UploadPart streamed from their sections. Every part but the last must be
// at least 5 MiB (checked before any request). On failure the upload is
// aborted, so no object is created or replaced; a refused copy gives an
// error matching export.ErrCopy.
func (c *Copier) WriteParts(ctx context.Context, name string, parts []export.Part) error {
	key := c.Key(name)
	if len(parts) == 0 {
		return fmt.Errorf("s3: %s: no parts", key)
	}
	for i := range parts[:len(parts)-1] {
		if n := parts[i].Size(); n < minPartSize {
			return fmt.Errorf("s3: %s: part %d of %d bytes, under the 5 MiB minimum", key, i+1, n)
		}
	}
	return c.inMultipart(ctx, name, func(key string, id *string) ([]types.CompletedPart, error) {
		done := make([]types.CompletedPart, 0, len(parts))
		for i, p := range parts {
			n := aws.Int32(int32(i + 1))
			var etag *string
			if r := p.Pack; r != nil {
				out, err := c.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
					Bucket: aws.String(c.bucket), Key: aws.String(key), UploadId: id, PartNumber: n,
					CopySource:      aws.String(copySource(c.packBucket, r.Key)),
					CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", r.Offset, r.Offset+r.Size-1)),
				})
				if err != nil {
					return nil, fmt.Errorf("s3: %w: part %d of %s from %s/%s: %w", export.ErrCopy, i+1, key, c.packBucket, r.Key, err)
				}
				if out.CopyPartResult == nil || out.CopyPartResult.ETag == nil {
					return nil, fmt.Errorf("s3: %w: part %d of %s: no ETag in the answer", export.ErrCopy, i+1, key)
				}
				etag = out.CopyPartResult.ETag
			} else {
				body := export.Sections(p.Sections)
				out, err := c.client.UploadPart(ctx, &s3.UploadPartInput{
					Bucket: aws.String(c.bucket), Key: aws.String(key), UploadId: id, PartNumber: n,
					Body: io.NewSectionReader(body, 0, body.Size()), ContentLength: aws.Int64(body.Size()),
				})
				if err != nil {
					return nil, fmt.Errorf("s3: upload part %d of %s: %w", i+1, key, err)
				}
				etag = out.ETag
			}
			done = append(done, types.CompletedPart{ETag: etag, PartNumber: n})
		}
		return done, nil
	})
}

// copySource is the x-amz-copy-source of an object: bucket/key, each
// path element URL-encoded.
func copySource(bucket, key string) string {
	els := strings.Split(key, "/")
	for i, e := range els {
		els[i] = url.PathEscape(e)
	}
	return bucket + "/" + strings.Join(els, "/")
}
