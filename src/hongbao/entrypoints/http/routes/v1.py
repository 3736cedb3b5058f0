"""The /v1 resources beyond packets, in the order /docs lists them."""

from __future__ import annotations

from hongbao.entrypoints.http.routes import (
    challenges,
    device_lock,
    groups,
    hints,
    incidents,
    operator,
    recalls,
    refunds,
    risk,
    social,
    users,
    wallet,
)

ROUTERS = (
    users.router,
    wallet.router,
    hints.router,
    groups.router,
    recalls.router,
    challenges.router,
    refunds.router,
    operator.router,
    incidents.router,
    risk.router,
    device_lock.router,
    social.router,
)
