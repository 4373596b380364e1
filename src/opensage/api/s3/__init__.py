"""The S3 REST-XML wire adapter (path-style addressing) over an ObjectStore."""

from opensage.api.s3.adapter import S3Adapter

__all__ = ["S3Adapter"]
