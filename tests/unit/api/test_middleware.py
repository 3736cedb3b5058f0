"""Which requests are money path, streams or deferrable; request ids taken or made."""

from __future__ import annotations

import pytest

from hongbao.entrypoints.ops.middleware import Kind, classify
from hongbao.entrypoints.ops.observability import request_id_from


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/v1/packets", Kind.MONEY),
        ("POST", "/v1/packets/p-1/claims", Kind.MONEY),
        ("POST", "/v1/packets/p-1/recalls", Kind.MONEY),
        ("POST", "/v1/operator/refunds/r-1/credit", Kind.MONEY),
        ("GET", "/v1/packets/p-1", Kind.NORMAL),
        ("POST", "/v1/challenges", Kind.NORMAL),
        ("GET", "/v1/packets/p-1/events", Kind.STREAM),
        ("GET", "/v1/me/events", Kind.STREAM),
        ("GET", "/v1/operator/ledger/verify", Kind.DEFERRABLE),
        ("GET", "/v1/operator/refunds", Kind.DEFERRABLE),
        ("GET", "/v1/users/li-wei/refunds", Kind.DEFERRABLE),
        ("GET", "/v1/users", Kind.DEFERRABLE),
        ("GET", "/v1/users/li-wei", Kind.NORMAL),
        ("GET", "/metrics", Kind.OPERATIONS),
        ("GET", "/readyz", Kind.OPERATIONS),
        ("GET", "/healthz", Kind.OPERATIONS),
    ],
)
def test_requests_are_classified_by_method_and_path(method: str, path: str, kind: Kind) -> None:
    assert classify(method, path) is kind


def test_a_sane_request_id_is_kept_and_anything_else_replaced_by_a_new_one() -> None:
    assert request_id_from(b"client-42:a.b_c") == "client-42:a.b_c"
    made = {request_id_from(None), request_id_from(b"has space"), request_id_from(b"x" * 65)}
    assert len(made) == 3
    assert all(len(rid) == 16 and int(rid, 16) >= 0 for rid in made)
