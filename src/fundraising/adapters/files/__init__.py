"""Files: uploads and covers on the local disk or in an S3 bucket, and Pillow image processing."""
