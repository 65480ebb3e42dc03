"""boto3 against a running Rewind: every channel-group, channel, origin
endpoint, policy and tag operation, pagination and the typed errors.
Usage: boto3_crud.py ENDPOINT_URL. Prints OK on success, exits 1 otherwise."""
import json
import sys

import boto3

url = sys.argv[1]
mp = boto3.client("mediapackagev2", endpoint_url=url, region_name="us-east-1")


def expect_error(code, field, value, fn, **kw):
    try:
        fn(**kw)
    except mp.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{fn.__name__}: got {got}, want {code}"
        if field:
            assert e.response.get(field) == value, f"{fn.__name__}: {field}={e.response.get(field)!r}, want {value!r}"
        return
    raise AssertionError(f"{fn.__name__} {kw}: no error, want {code}")


g = mp.create_channel_group(ChannelGroupName="py", Description="boto3", Tags={"Team": "video"})
assert g["Tags"] == {"Team": "video"}, g
assert g["Arn"] == "arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/py", g
got = mp.get_channel_group(ChannelGroupName="py")
assert got["Tags"] == {"Team": "video"} and got["ETag"] == g["ETag"], got  # wire key "tags"
expect_error("ConflictException", "ConflictExceptionType", "RESOURCE_ALREADY_EXISTS", mp.create_channel_group, ChannelGroupName="py")
expect_error("ValidationException", "ValidationExceptionType", "MEMBER_DOES_NOT_MATCH_PATTERN", mp.create_channel_group, ChannelGroupName="bad.name")
expect_error("ValidationException", "ValidationExceptionType", "MEMBER_MAX_LENGTH", mp.create_channel_group, ChannelGroupName="x" * 257)
expect_error("ResourceNotFoundException", "ResourceTypeNotFound", "CHANNEL_GROUP", mp.get_channel_group, ChannelGroupName="nope")
expect_error("ConflictException", "ConflictExceptionType", "CONFLICTING_OPERATION", mp.update_channel_group, ChannelGroupName="py", ETag="stale", Description="x")
u = mp.update_channel_group(ChannelGroupName="py", ETag=g["ETag"], Description="updated")
assert u["Description"] == "updated" and u["ETag"] != g["ETag"] and u["Tags"] == {"Team": "video"}, u

for i in range(25):
    mp.create_channel(ChannelGroupName="py", ChannelName=f"c{i:02d}", Tags={"i": str(i)})
names = []
pages = 0
for page in mp.get_paginator("list_channels").paginate(ChannelGroupName="py", PaginationConfig={"PageSize": 10}):
    pages += 1
    names += [c["ChannelName"] for c in page["Items"]]
assert pages == 3 and names == [f"c{i:02d}" for i in range(25)], (pages, names)
first = mp.list_channels(ChannelGroupName="py")
assert len(first["Items"]) == 10 and "NextToken" in first, first
expect_error("ValidationException", "ValidationExceptionType", "INVALID_PAGINATION_TOKEN", mp.list_channels, ChannelGroupName="py", NextToken="!!")

ch = mp.get_channel(ChannelGroupName="py", ChannelName="c01")
assert ch["Tags"] == {"i": "1"} and ch["IngestEndpoints"][0]["Url"].endswith("/in/v1/py/1/c01/index") and ch["IngestEndpoints"][2]["Url"].endswith("/py/c01"), ch
uc = mp.update_channel(ChannelGroupName="py", ChannelName="c01", Description="d")
assert uc["Tags"] == {"i": "1"} and uc["Description"] == "d", uc  # wire key "tags"
expect_error("ResourceNotFoundException", "ResourceTypeNotFound", "CHANNEL", mp.get_channel, ChannelGroupName="py", ChannelName="nope")

ep = mp.create_origin_endpoint(
    ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep", ContainerType="CMAF",
    Segment={"SegmentDurationSeconds": 2}, StartoverWindowSeconds=600,
    HlsManifests=[{"ManifestName": "hls", "ManifestWindowSeconds": 60}],
    LowLatencyHlsManifests=[{"ManifestName": "ll", "ManifestWindowSeconds": 30, "ProgramDateTimeIntervalSeconds": 2}],
    DashManifests=[{"ManifestName": "dash", "SegmentTemplateFormat": "NUMBER_WITH_TIMELINE"}],
    Tags={"k": "v"},
)
assert ep["HlsManifests"][0]["Url"] == f"{url}/out/v1/py/c01/ep/hls.m3u8", ep
assert ep["DashManifests"][0]["Url"] == f"{url}/out/v1/py/c01/ep/dash.mpd", ep
assert ep["Tags"] == {"k": "v"} and ep["Segment"]["SegmentDurationSeconds"] == 2, ep
expect_error("ValidationException", "ValidationExceptionType", "MEMBER_MAX_VALUE", mp.create_origin_endpoint,
             ChannelGroupName="py", ChannelName="c01", OriginEndpointName="far", ContainerType="CMAF", StartoverWindowSeconds=2000000)
expect_error("ValidationException", "ValidationExceptionType", "MANIFEST_NAME_COLLISION", mp.create_origin_endpoint,
             ChannelGroupName="py", ChannelName="c01", OriginEndpointName="dup", ContainerType="CMAF",
             HlsManifests=[{"ManifestName": "a"}], LowLatencyHlsManifests=[{"ManifestName": "a"}])
ge = mp.get_origin_endpoint(ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep")
assert ge["ETag"] == ep["ETag"] and ge["StartoverWindowSeconds"] == 600, ge
ue = mp.update_origin_endpoint(ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep", ContainerType="CMAF",
                               ETag=ge["ETag"], HlsManifests=[{"ManifestName": "hls", "ManifestWindowSeconds": 30}])
assert ue["Tags"] == {"k": "v"} and ue["HlsManifests"][0]["ManifestWindowSeconds"] == 30, ue  # wire key "tags"
expect_error("ValidationException", "ValidationExceptionType", "CONTAINER_TYPE_IMMUTABLE", mp.update_origin_endpoint,
             ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep", ContainerType="TS")
le = mp.list_origin_endpoints(ChannelGroupName="py", ChannelName="c01")
assert [e["OriginEndpointName"] for e in le["Items"]] == ["ep"], le

policy = json.dumps({"Version": "2012-10-17", "Statement": []})
mp.put_channel_policy(ChannelGroupName="py", ChannelName="c01", Policy=policy)
assert mp.get_channel_policy(ChannelGroupName="py", ChannelName="c01")["Policy"] == policy
mp.put_origin_endpoint_policy(ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep", Policy=policy)
assert mp.get_origin_endpoint_policy(ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep")["Policy"] == policy
mp.delete_origin_endpoint_policy(ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep")
expect_error("ResourceNotFoundException", None, None, mp.get_origin_endpoint_policy, ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep")

arn = ch["Arn"]
mp.tag_resource(ResourceArn=arn, Tags={"x": "1", "y": "2"})
mp.untag_resource(ResourceArn=arn, TagKeys=["i", "y"])
assert mp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"x": "1"}
expect_error("ValidationException", "ValidationExceptionType", "INVALID_ARN", mp.list_tags_for_resource, ResourceArn="arn:aws:s3:::bucket")

expect_error("ConflictException", "ConflictExceptionType", "RESOURCE_IN_USE", mp.delete_channel_group, ChannelGroupName="py")
mp.delete_origin_endpoint(ChannelGroupName="py", ChannelName="c01", OriginEndpointName="ep")
for i in range(25):
    mp.delete_channel(ChannelGroupName="py", ChannelName=f"c{i:02d}")
mp.delete_channel_group(ChannelGroupName="py")
assert mp.list_channel_groups()["Items"] == []
print("OK")
