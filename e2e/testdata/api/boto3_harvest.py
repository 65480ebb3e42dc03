# create_harvest_job with the full argument set of the AWS documentation,
# then the harvest_job_finished waiter. Args: endpoint URL, start, end (epoch s).
import boto3, sys, datetime
c = boto3.client("mediapackagev2", endpoint_url=sys.argv[1])
s = datetime.datetime.fromtimestamp(float(sys.argv[2]), datetime.timezone.utc)
e = datetime.datetime.fromtimestamp(float(sys.argv[3]), datetime.timezone.utc)
r = c.create_harvest_job(ChannelGroupName="live", ChannelName="hv", OriginEndpointName="default",
    Description="boto3", HarvestedManifests={"HlsManifests": [{"ManifestName": "index"}],
    "DashManifests": [{"ManifestName": "index"}], "LowLatencyHlsManifests": [{"ManifestName": "low-latency"}]},
    ScheduleConfiguration={"StartTime": s, "EndTime": e},
    Destination={"S3Destination": {"BucketName": "e2e-bucket", "DestinationPath": "boto3"}},
    ClientToken="boto3-token", HarvestJobName="boto3-job", Tags={"suite": "e2e"})
c.get_waiter("harvest_job_finished").wait(ChannelGroupName="live", ChannelName="hv",
    OriginEndpointName="default", HarvestJobName="boto3-job")
print(c.get_harvest_job(ChannelGroupName="live", ChannelName="hv", OriginEndpointName="default",
    HarvestJobName="boto3-job")["Status"])
