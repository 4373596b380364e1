"""The members every SageMaker List* operation shares, as a store ListQuery."""

from __future__ import annotations

from typing import Any

from opensage.store import ListQuery, SortBy, SortOrder

# SageMaker's List* operations return 10 results unless MaxResults says otherwise.
DEFAULT_MAX_RESULTS = 10


def list_query(params: dict[str, Any]) -> ListQuery:
    return ListQuery(
        name_contains=params.get("NameContains"),
        status_equals=params.get("StatusEquals"),
        creation_time_after=params.get("CreationTimeAfter"),
        creation_time_before=params.get("CreationTimeBefore"),
        last_modified_time_after=params.get("LastModifiedTimeAfter"),
        last_modified_time_before=params.get("LastModifiedTimeBefore"),
        sort_by=SortBy(params.get("SortBy", SortBy.CREATION_TIME.value)),
        sort_order=SortOrder(params.get("SortOrder", SortOrder.ASCENDING.value)),
        max_results=params.get("MaxResults", DEFAULT_MAX_RESULTS),
        next_token=params.get("NextToken"),
    )
