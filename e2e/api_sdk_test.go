package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestAPIGoSDK drives every channel-group, channel, origin-endpoint,
// policy and tag operation with aws-sdk-go-v2 against a running Rewind and
// checks each response parses and each error arrives as the typed exception.
func TestAPIGoSDK(t *testing.T) {
	requireTools(t)
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	ctx := context.Background()

	// Channel group: create (tags sent as "tags"), duplicate, get (tags answered as "tags").
	cg, err := cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{
		ChannelGroupName: aws.String("sdk"), Description: aws.String("go sdk"), Tags: map[string]string{"team": "video"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *cg.Arn != "arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/sdk" || cg.Tags["team"] != "video" ||
		aws.ToString(cg.ETag) == "" || cg.CreatedAt == nil || cg.CreatedAt.IsZero() || *cg.EgressDomain != rw.httpAddr {
		t.Errorf("CreateChannelGroup: %+v", cg)
	}
	_, err = cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String("sdk")})
	if e := asError[*types.ConflictException](t, "duplicate group", err); e.ConflictExceptionType != types.ConflictExceptionTypeResourceAlreadyExists {
		t.Errorf("duplicate group: %s", e.ConflictExceptionType)
	}
	gg, err := cli.GetChannelGroup(ctx, &mediapackagev2.GetChannelGroupInput{ChannelGroupName: aws.String("sdk")})
	if err != nil || gg.Tags["team"] != "video" || *gg.ETag != *cg.ETag || *gg.Description != "go sdk" {
		t.Fatalf("GetChannelGroup: %+v, %v", gg, err)
	}
	_, err = cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String("bad name")})
	if e := asError[*types.ValidationException](t, "invalid name", err); e.ValidationExceptionType != types.ValidationExceptionTypeMemberDoesNotMatchPattern {
		t.Errorf("invalid name: %s", e.ValidationExceptionType)
	}
	_, err = cli.GetChannelGroup(ctx, &mediapackagev2.GetChannelGroupInput{ChannelGroupName: aws.String("nope")})
	if e := asError[*types.ResourceNotFoundException](t, "unknown group", err); e.ResourceTypeNotFound != types.ResourceTypeNotFoundChannelGroup {
		t.Errorf("unknown group: %s", e.ResourceTypeNotFound)
	}

	// Update with a stale ETag is refused; with the current one it works.
	_, err = cli.UpdateChannelGroup(ctx, &mediapackagev2.UpdateChannelGroupInput{
		ChannelGroupName: aws.String("sdk"), ETag: aws.String("stale"), Description: aws.String("x"),
	})
	if e := asError[*types.ConflictException](t, "stale etag", err); e.ConflictExceptionType != types.ConflictExceptionTypeConflictingOperation {
		t.Errorf("stale etag: %s", e.ConflictExceptionType)
	}
	ug, err := cli.UpdateChannelGroup(ctx, &mediapackagev2.UpdateChannelGroupInput{
		ChannelGroupName: aws.String("sdk"), ETag: cg.ETag, Description: aws.String("updated"),
	})
	if err != nil || *ug.Description != "updated" || *ug.ETag == *cg.ETag || ug.Tags["team"] != "video" || !ug.ModifiedAt.After(*cg.ModifiedAt) {
		t.Fatalf("UpdateChannelGroup: %+v, %v", ug, err)
	}

	// Idempotent create by client token.
	tok := aws.String("token-1")
	first, err := cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String("idem"), ClientToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	again, err := cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String("idem"), ClientToken: tok})
	if err != nil || *again.ETag != *first.ETag {
		t.Fatalf("repeated create with the same client token: %+v, %v", again, err)
	}
	_, err = cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String("idem"), ClientToken: tok, Description: aws.String("other")})
	if e := asError[*types.ConflictException](t, "token reuse", err); e.ConflictExceptionType != types.ConflictExceptionTypeIdempotentParameterMismatch {
		t.Errorf("token reuse: %s", e.ConflictExceptionType)
	}

	// 25 channels, listed 10 at a time.
	for i := range 25 {
		_, err := cli.CreateChannel(ctx, &mediapackagev2.CreateChannelInput{
			ChannelGroupName: aws.String("sdk"), ChannelName: aws.String(fmt.Sprintf("ch%02d", i)), Tags: map[string]string{"n": fmt.Sprint(i)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pages, names := 0, []string{}
	pg := mediapackagev2.NewListChannelsPaginator(cli, &mediapackagev2.ListChannelsInput{ChannelGroupName: aws.String("sdk"), MaxResults: aws.Int32(10)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range out.Items {
			names = append(names, *it.ChannelName)
		}
	}
	if pages != 3 || len(names) != 25 || names[0] != "ch00" || names[24] != "ch24" {
		t.Errorf("ListChannels: %d pages, %d channels %v", pages, len(names), names)
	}
	_, err = cli.ListChannels(ctx, &mediapackagev2.ListChannelsInput{ChannelGroupName: aws.String("sdk"), MaxResults: aws.Int32(101)})
	if e := asError[*types.ValidationException](t, "maxResults 101", err); e.ValidationExceptionType != types.ValidationExceptionTypeInvalidPaginationMaxResults {
		t.Errorf("maxResults 101: %s", e.ValidationExceptionType)
	}
	def, err := cli.ListChannels(ctx, &mediapackagev2.ListChannelsInput{ChannelGroupName: aws.String("sdk")})
	if err != nil || len(def.Items) != 10 || def.NextToken == nil {
		t.Errorf("ListChannels default page: %d items, next %v, %v", len(def.Items), def.NextToken, err)
	}

	// Channel get/update (tags answered "Tags" by Get and "tags" by Update).
	ch, err := cli.GetChannel(ctx, &mediapackagev2.GetChannelInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03")})
	if err != nil || ch.Tags["n"] != "3" || ch.InputType != types.InputTypeHls || len(ch.IngestEndpoints) != 3 ||
		*ch.IngestEndpoints[0].Url != rw.url("/in/v1/sdk/1/ch03/index") || *ch.IngestEndpoints[1].Url != rw.url("/in/v1/sdk/2/ch03/index") ||
		*ch.IngestEndpoints[2].Url != "rtsp://"+rw.rtspAddr+"/sdk/ch03" || *ch.IngestEndpoints[2].Id != "3" {
		t.Fatalf("GetChannel: %+v, %v", ch, err)
	}
	uc, err := cli.UpdateChannel(ctx, &mediapackagev2.UpdateChannelInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), Description: aws.String("d")})
	if err != nil || uc.Tags["n"] != "3" || *uc.Description != "d" {
		t.Fatalf("UpdateChannel: %+v, %v", uc, err)
	}

	// Origin endpoint with HLS, LL-HLS and DASH manifests.
	ep, err := cli.CreateOriginEndpoint(ctx, &mediapackagev2.CreateOriginEndpointInput{
		ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("ep"),
		ContainerType: types.ContainerTypeCmaf, StartoverWindowSeconds: aws.Int32(3600),
		Segment:      &types.Segment{SegmentDurationSeconds: aws.Int32(4)},
		HlsManifests: []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("hls"), ManifestWindowSeconds: aws.Int32(120), ProgramDateTimeIntervalSeconds: aws.Int32(4)}},
		LowLatencyHlsManifests: []types.CreateLowLatencyHlsManifestConfiguration{{
			ManifestName: aws.String("ll"), ManifestWindowSeconds: aws.Int32(60),
			FilterConfiguration: &types.FilterConfiguration{TimeDelaySeconds: aws.Int32(10)},
		}},
		DashManifests: []types.CreateDashManifestConfiguration{{ManifestName: aws.String("dash"), MinBufferTimeSeconds: aws.Int32(4)}},
		Tags:          map[string]string{"kind": "cmaf"},
	})
	if err != nil {
		t.Fatal(err)
	}
	base := rw.url("/out/v1/sdk/ch03/ep/")
	if *ep.HlsManifests[0].Url != base+"hls.m3u8" || *ep.LowLatencyHlsManifests[0].Url != base+"ll.m3u8" ||
		*ep.DashManifests[0].Url != base+"dash.mpd" || *ep.Segment.SegmentDurationSeconds != 4 || ep.Tags["kind"] != "cmaf" ||
		*ep.LowLatencyHlsManifests[0].FilterConfiguration.TimeDelaySeconds != 10 {
		t.Errorf("CreateOriginEndpoint: %+v", ep)
	}
	_, err = cli.CreateOriginEndpoint(ctx, &mediapackagev2.CreateOriginEndpointInput{
		ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("far"),
		ContainerType: types.ContainerTypeCmaf, StartoverWindowSeconds: aws.Int32(1209601),
	})
	if e := asError[*types.ValidationException](t, "start-over window", err); e.ValidationExceptionType != types.ValidationExceptionTypeMemberMaxValue {
		t.Errorf("start-over window: %s", e.ValidationExceptionType)
	}
	_, err = cli.CreateOriginEndpoint(ctx, &mediapackagev2.CreateOriginEndpointInput{
		ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("ts"), ContainerType: types.ContainerTypeTs,
		DashManifests: []types.CreateDashManifestConfiguration{{ManifestName: aws.String("dash")}},
	})
	if e := asError[*types.ValidationException](t, "TS endpoint with DASH", err); e.ValidationExceptionType != types.ValidationExceptionTypeTsContainerTypeWithDashManifest {
		t.Errorf("TS endpoint with DASH: %s %s", e.ValidationExceptionType, aws.ToString(e.Message))
	}
	got, err := cli.GetOriginEndpoint(ctx, &mediapackagev2.GetOriginEndpointInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("ep")})
	if err != nil || *got.ETag != *ep.ETag || *got.StartoverWindowSeconds != 3600 || *got.DashManifests[0].MinBufferTimeSeconds != 4 {
		t.Fatalf("GetOriginEndpoint: %+v, %v", got, err)
	}
	up, err := cli.UpdateOriginEndpoint(ctx, &mediapackagev2.UpdateOriginEndpointInput{
		ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("ep"),
		ContainerType: types.ContainerTypeCmaf, ETag: got.ETag,
		HlsManifests: []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("hls"), ManifestWindowSeconds: aws.Int32(30)}},
	})
	if err != nil || len(up.HlsManifests) != 1 || *up.HlsManifests[0].ManifestWindowSeconds != 30 || len(up.DashManifests) != 0 || up.Tags["kind"] != "cmaf" {
		t.Fatalf("UpdateOriginEndpoint: %+v, %v", up, err)
	}
	le, err := cli.ListOriginEndpoints(ctx, &mediapackagev2.ListOriginEndpointsInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03")})
	if err != nil || len(le.Items) != 1 || *le.Items[0].HlsManifests[0].Url != base+"hls.m3u8" {
		t.Fatalf("ListOriginEndpoints: %+v, %v", le, err)
	}
	if _, err := cli.ResetOriginEndpointState(ctx, &mediapackagev2.ResetOriginEndpointStateInput{
		ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("ep"),
	}); err != nil {
		t.Fatal(err)
	}

	// Policies (stored, not enforced).
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"mediapackagev2:GetObject","Resource":"*"}]}`
	if _, err := cli.PutChannelPolicy(ctx, &mediapackagev2.PutChannelPolicyInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	cp, err := cli.GetChannelPolicy(ctx, &mediapackagev2.GetChannelPolicyInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03")})
	if err != nil || *cp.Policy != policy {
		t.Fatalf("GetChannelPolicy: %+v, %v", cp, err)
	}
	if _, err := cli.PutOriginEndpointPolicy(ctx, &mediapackagev2.PutOriginEndpointPolicyInput{
		ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("ep"), Policy: aws.String(policy),
	}); err != nil {
		t.Fatal(err)
	}
	op, err := cli.GetOriginEndpointPolicy(ctx, &mediapackagev2.GetOriginEndpointPolicyInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("ep")})
	if err != nil || *op.Policy != policy {
		t.Fatalf("GetOriginEndpointPolicy: %+v, %v", op, err)
	}
	if _, err := cli.DeleteChannelPolicy(ctx, &mediapackagev2.DeleteChannelPolicyInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03")}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.GetChannelPolicy(ctx, &mediapackagev2.GetChannelPolicyInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03")})
	asError[*types.ResourceNotFoundException](t, "deleted channel policy", err)
	_, err = cli.PutChannelPolicy(ctx, &mediapackagev2.PutChannelPolicyInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), Policy: aws.String("not json")})
	if e := asError[*types.ValidationException](t, "bad policy", err); e.ValidationExceptionType != types.ValidationExceptionTypeInvalidPolicy {
		t.Errorf("bad policy: %s", e.ValidationExceptionType)
	}

	// Tags by ARN.
	arn := *ep.Arn
	if _, err := cli.TagResource(ctx, &mediapackagev2.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"a": "1", "b c": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UntagResource(ctx, &mediapackagev2.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"kind", "b c"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := cli.ListTagsForResource(ctx, &mediapackagev2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(lt.Tags) != 1 || lt.Tags["a"] != "1" {
		t.Fatalf("ListTagsForResource: %+v, %v", lt, err)
	}

	// Deletes: a group with channels and a channel with endpoints are in use.
	_, err = cli.DeleteChannelGroup(ctx, &mediapackagev2.DeleteChannelGroupInput{ChannelGroupName: aws.String("sdk")})
	if e := asError[*types.ConflictException](t, "delete non-empty group", err); e.ConflictExceptionType != types.ConflictExceptionTypeResourceInUse {
		t.Errorf("delete non-empty group: %s", e.ConflictExceptionType)
	}
	_, err = cli.DeleteChannel(ctx, &mediapackagev2.DeleteChannelInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03")})
	asError[*types.ConflictException](t, "delete channel with endpoints", err)
	if _, err := cli.DeleteOriginEndpoint(ctx, &mediapackagev2.DeleteOriginEndpointInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String("ch03"), OriginEndpointName: aws.String("ep")}); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, base+"hls.m3u8"); status != 404 {
		t.Errorf("manifest of a deleted endpoint: status %d, want 404", status)
	}
	for i := range 25 {
		if _, err := cli.DeleteChannel(ctx, &mediapackagev2.DeleteChannelInput{ChannelGroupName: aws.String("sdk"), ChannelName: aws.String(fmt.Sprintf("ch%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.DeleteChannelGroup(ctx, &mediapackagev2.DeleteChannelGroupInput{ChannelGroupName: aws.String("sdk")}); err != nil {
		t.Fatal(err)
	}
	groups, err := cli.ListChannelGroups(ctx, &mediapackagev2.ListChannelGroupsInput{})
	if err != nil || len(groups.Items) != 1 || *groups.Items[0].ChannelGroupName != "idem" || groups.NextToken != nil {
		t.Errorf("ListChannelGroups after deletes: %+v, %v", groups, err)
	}
}
