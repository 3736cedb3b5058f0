"""Revoked access tokens: a token's id, once revoked, is refused until it expires."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RevokedToken:
    token_id: str
    subject: str
    revoked_at_us: int
    revoked_by: str
