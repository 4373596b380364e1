"""Batch transform jobs: a model run over every record of an S3 prefix, the results written beside it."""
