#!/bin/sh
# Prepares MinIO for the service; run by the one-shot `minio-init` service of
# docker/compose.yaml (minio/mc image) once MinIO is healthy, before app, worker and migrate
# start. Running it again changes nothing. With MinIO's root credentials, it makes:
# - the bucket of FUNDRAISING_STORAGE_URL (s3://bucket[/prefix]);
# - the service's own MinIO user (FUNDRAISING_S3_ACCESS_KEY_ID and _SECRET_ACCESS_KEY), allowed
#   everything on that bucket and nothing else: app, worker and migrate never hold MinIO's root
#   credentials, as they never hold MySQL's root password;
# - anonymous reads of the covers ([prefix/]covers/...), which browsers load from
#   FUNDRAISING_MEDIA_URL: object by object, and nothing more. Not `mc anonymous set download`,
#   which lets anyone list them too: a private collect's cover is served to whoever knows its
#   random name, so the names must not be listable. Uploads awaiting processing stay private.
set -eu

location="${FUNDRAISING_STORAGE_URL#s3://}"
location="${location%/}" # bucket[/prefix]
bucket="${location%%/*}"
covers="$location/covers"
policies="${TMPDIR:-/tmp}"

mc alias set local "$FUNDRAISING_S3_ENDPOINT_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "local/$bucket"

# printf, not a here-document: the image has a shell but next to no commands.
printf '{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": ["s3:*"],
    "Resource": ["arn:aws:s3:::%s", "arn:aws:s3:::%s/*"]
  }]
}\n' "$bucket" "$bucket" >"$policies/fundraising-service.json"
mc admin policy create local fundraising-service "$policies/fundraising-service.json"
mc admin user add local "$FUNDRAISING_S3_ACCESS_KEY_ID" "$FUNDRAISING_S3_SECRET_ACCESS_KEY"
# mc calls attaching a policy the user has already (a second `up`) an error, and the image has
# no grep to look first: tolerated, as /health/ready of the app checks the bucket with these
# credentials anyway.
mc admin policy attach local fundraising-service --user "$FUNDRAISING_S3_ACCESS_KEY_ID" || true

printf '{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": ["*"]},
    "Action": ["s3:GetObject"],
    "Resource": ["arn:aws:s3:::%s/*"]
  }]
}\n' "$covers" >"$policies/covers-anonymous.json"
mc anonymous set-json "$policies/covers-anonymous.json" "local/$bucket"
