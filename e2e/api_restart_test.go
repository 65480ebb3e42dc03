package e2e

import (
	"context"
	"reflect"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestAPIRestartKeepsResources: groups, channels, endpoints, their
// ETags, tags, timestamps and policies survive a restart.
func TestAPIRestartKeepsResources(t *testing.T) {
	requireTools(t)
	t.Parallel()
	dir := t.TempDir()
	rw := startRewind(t, dir)
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	ctx := context.Background()
	g := aws.String("keep")
	c := aws.String("cam")
	e := aws.String("ep")
	if _, err := cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: g, Tags: map[string]string{"g": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateChannel(ctx, &mediapackagev2.CreateChannelInput{ChannelGroupName: g, ChannelName: c, Description: aws.String("d"), Tags: map[string]string{"c": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateOriginEndpoint(ctx, &mediapackagev2.CreateOriginEndpointInput{
		ChannelGroupName: g, ChannelName: c, OriginEndpointName: e, ContainerType: types.ContainerTypeCmaf,
		HlsManifests: []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("index")}},
		Tags:         map[string]string{"e": "3"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.PutChannelPolicy(ctx, &mediapackagev2.PutChannelPolicyInput{ChannelGroupName: g, ChannelName: c, Policy: aws.String(`{"Version":"2012-10-17"}`)}); err != nil {
		t.Fatal(err)
	}
	type snapshot struct {
		groupETag, channelETag, endpointETag string
		tags                                 [3]map[string]string
		created                              [3]int64
		policy                               string
	}
	take := func(cli *mediapackagev2.Client) snapshot {
		gg, err := cli.GetChannelGroup(ctx, &mediapackagev2.GetChannelGroupInput{ChannelGroupName: g})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := cli.GetChannel(ctx, &mediapackagev2.GetChannelInput{ChannelGroupName: g, ChannelName: c})
		if err != nil {
			t.Fatal(err)
		}
		ep, err := cli.GetOriginEndpoint(ctx, &mediapackagev2.GetOriginEndpointInput{ChannelGroupName: g, ChannelName: c, OriginEndpointName: e})
		if err != nil {
			t.Fatal(err)
		}
		p, err := cli.GetChannelPolicy(ctx, &mediapackagev2.GetChannelPolicyInput{ChannelGroupName: g, ChannelName: c})
		if err != nil {
			t.Fatal(err)
		}
		return snapshot{*gg.ETag, *ch.ETag, *ep.ETag, [3]map[string]string{gg.Tags, ch.Tags, ep.Tags},
			[3]int64{gg.CreatedAt.UnixMilli(), ch.CreatedAt.UnixMilli(), ep.CreatedAt.UnixMilli()}, *p.Policy}
	}
	before := take(cli)
	if code := rw.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	rw2 := startRewind(t, dir)
	after := take(sdkClient(t, rw2, "AKIDLOCAL", "SECRETLOCAL"))
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after restart:\n%+v\nbefore:\n%+v", after, before)
	}
}
