"""Processing jobs: users' code run over S3 inputs on one or more instances, its outputs uploaded to S3."""
