"""AddTags, ListTags and DeleteTags on the wire."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.errors import ValidationError
from opensage.services.tags import TagService


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("The NextToken is not valid; start again without it") from exc


def build_handlers(service: TagService) -> dict[str, JsonHandler]:
    def add(params: dict[str, Any]) -> dict[str, Any]:
        tags = service.add(params["ResourceArn"], {t["Key"]: t["Value"] for t in params["Tags"]})
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    def list_tags(params: dict[str, Any]) -> dict[str, Any]:
        tags = [{"Key": k, "Value": v} for k, v in service.tags_of(params["ResourceArn"]).items()]
        start = _offset(params.get("NextToken"))
        limit = params.get("MaxResults", 50)
        response: dict[str, Any] = {"Tags": tags[start : start + limit]}
        if start + limit < len(tags):
            response["NextToken"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return response

    def delete(params: dict[str, Any]) -> dict[str, Any]:
        service.delete(params["ResourceArn"], params["TagKeys"])
        return {}

    return {"AddTags": add, "ListTags": list_tags, "DeleteTags": delete}
