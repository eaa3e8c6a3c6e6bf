"""verification.find against a brute-force reading of the same query (no HTTP)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.http.journal import JournalEntry
from mockserver.http.verification import NEAR_MISSES, JournalQuery, find

METHODS = ("CreateTask", "GetTask")
CODES = ("ok", "not_found", None)  # None: a dropped call
REFERENCES = ("build", "test", "build-2", "")


def _entry(method: str, code: str | None, reference: str, truncated: bool) -> JournalEntry:
    request = None if truncated else ({"metadata": {"reference": reference}} if reference else {})
    return JournalEntry(method, request, code, 200, 0, request_truncated=truncated)


entries_strategy = st.lists(
    st.builds(
        _entry,
        st.sampled_from(METHODS),
        st.sampled_from(CODES),
        st.sampled_from(REFERENCES),
        st.booleans(),
    ),
    max_size=12,
)
queries = st.fixed_dictionaries(
    {},
    optional={
        "method": st.sampled_from(METHODS),
        "code": st.sampled_from(("ok", "not_found")),
        "match": st.sampled_from(
            [{"metadata.reference": "^build"}, {"metadata.reference": "^$"}, {}]
        ),
    },
)


def _fits(query: dict[str, Any], entry: JournalEntry) -> bool | None:
    """True, False, or None: cannot tell (the request was not kept)."""
    if "method" in query and entry.method != query["method"]:
        return False
    if "code" in query and entry.code != query["code"]:
        return False
    pattern = query.get("match", {}).get("metadata.reference")
    if pattern is None:
        return True
    if entry.request_truncated:
        return None
    reference = entry.request.get("metadata", {}).get("reference", "")
    return re.search(pattern, reference) is not None


@given(entries=entries_strategy, query=queries)
def test_find_agrees_with_a_brute_force_reading(
    entries: list[JournalEntry], query: dict[str, Any]
) -> None:
    findings = find(JournalQuery.parse(query), entries, lambda entry: entry.request)
    verdicts = [_fits(query, entry) for entry in entries]
    assert findings.matched == [i for i, verdict in enumerate(verdicts) if verdict is True]
    assert findings.unknown == [i for i, verdict in enumerate(verdicts) if verdict is None]
    near = [miss.index for miss in findings.near_misses]
    if findings.matched:
        assert near == []
    else:
        failed = [i for i, verdict in enumerate(verdicts) if verdict is False]
        assert len(near) == min(NEAR_MISSES, len(failed))
        assert set(near) <= set(failed)  # never a match, never an unknown
        assert all(miss.misses for miss in findings.near_misses)  # each says what failed
