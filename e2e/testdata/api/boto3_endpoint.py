"""Creates, with boto3, a channel group, a channel and origin endpoints
whose manifests e2e/api_dataplane_test.go plays once ffmpeg publishes.
Usage: boto3_endpoint.py ENDPOINT_URL GROUP CHANNEL.
Prints a JSON object with the manifest Url values the API returned."""
import json
import sys

import boto3

url, group, channel = sys.argv[1:4]
mp = boto3.client("mediapackagev2", endpoint_url=url, region_name="us-east-1")
mp.create_channel_group(ChannelGroupName=group)
ch = mp.create_channel(ChannelGroupName=group, ChannelName=channel, InputType="CMAF")
ep = mp.create_origin_endpoint(
    ChannelGroupName=group, ChannelName=channel, OriginEndpointName="main", ContainerType="CMAF",
    Segment={"SegmentDurationSeconds": 2}, StartoverWindowSeconds=300,
    HlsManifests=[{"ManifestName": "hls", "ManifestWindowSeconds": 60, "ProgramDateTimeIntervalSeconds": 2}],
    LowLatencyHlsManifests=[{"ManifestName": "ll", "ManifestWindowSeconds": 30, "ProgramDateTimeIntervalSeconds": 2}],
    DashManifests=[{"ManifestName": "dash", "ManifestWindowSeconds": 60}],
)
stale = mp.create_origin_endpoint(
    ChannelGroupName=group, ChannelName=channel, OriginEndpointName="failover", ContainerType="CMAF",
    Segment={"SegmentDurationSeconds": 2},
    HlsManifests=[{"ManifestName": "hls"}],
    ForceEndpointErrorConfiguration={"EndpointErrorConditions": ["STALE_MANIFEST"]},
)
print(json.dumps({
    "ingest": ch["IngestEndpoints"][2]["Url"],  # Id "3": RTSP (1 and 2: HTTP push)
    "hls": ep["HlsManifests"][0]["Url"],
    "ll": ep["LowLatencyHlsManifests"][0]["Url"],
    "dash": ep["DashManifests"][0]["Url"],
    "failover": stale["HlsManifests"][0]["Url"],
}))
