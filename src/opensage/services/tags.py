"""Tags on any SageMaker resource, addressed by ARN: AddTags, ListTags, DeleteTags."""

from __future__ import annotations

from opensage.errors import NotFoundError, ValidationError
from opensage.store import ResourceRepository

# SageMaker allows 50 user tags per resource and reserves the aws: prefix.
MAX_TAGS = 50


class TagService:
    def __init__(self, repository: ResourceRepository) -> None:
        self._repository = repository

    def add(self, arn: str, tags: dict[str, str]) -> dict[str, str]:
        reserved = [key for key in tags if key.lower().startswith("aws:")]
        if reserved:
            raise ValidationError(
                f"Tag keys starting with 'aws:' are reserved for AWS: {', '.join(reserved)}"
            )
        current = self._existing(arn)
        if len(set(current) | set(tags)) > MAX_TAGS:
            raise ValidationError(f"A resource can have at most {MAX_TAGS} tags; {arn} would have more")
        self._repository.add_tags(arn, tags)
        return tags

    def tags_of(self, arn: str) -> dict[str, str]:
        return self._existing(arn)

    def delete(self, arn: str, keys: list[str]) -> None:
        self._existing(arn)
        self._repository.delete_tags(arn, keys)

    def _existing(self, arn: str) -> dict[str, str]:
        try:
            return self._repository.list_tags(arn)
        except NotFoundError as exc:
            raise ValidationError(f"Resource {arn} does not exist") from exc
