"""The /v1 resources beyond packets, in the order /docs lists them."""

from __future__ import annotations

from hongbao.entrypoints.http.routes import (
    challenges,
    device_lock,
    groups,
    guard,
    hints,
    incidents,
    measures,
    operator,
    recalls,
    refunds,
    risk,
    social,
    support,
    users,
    wallet,
)

ROUTERS = (
    users.router,
    wallet.router,
    hints.router,
    groups.router,
    recalls.router,
    guard.router,
    challenges.router,
    refunds.router,
    operator.router,
    incidents.router,
    risk.router,
    support.mine,
    support.desk,
    measures.router,
    device_lock.router,
    social.router,
)
