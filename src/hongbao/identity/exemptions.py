"""Exemption lists: who is exempt from which risk rule, for which period, and why (R-K2, R-K4).

An exemption is valid on the half-open period ``[valid_from_us, valid_until_us)``: it applies
from the very microsecond ``valid_from_us`` and no longer at ``valid_until_us``. An absent
``valid_until_us`` means it never ends. Both boundaries are decided by
:func:`hongbao.platform.clock.is_due`, the one place that says whether a moment has passed.

A decision that relies on an exemption names it (its ``id`` and ``reason``), so
:func:`applicable_exemption` returns the record itself rather than a yes or no.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from hongbao.identity.errors import IdentityCode
from hongbao.identity.users import (
    MAX_REASON_LENGTH,
    IdentityError,
    check_id,
    check_member,
    check_text,
    check_timestamp_us,
)
from hongbao.platform.clock import is_due

__all__ = [
    "ALLOWED_SUBJECTS",
    "Exemption",
    "ExemptionKind",
    "Subject",
    "SubjectKind",
    "applicable_exemption",
]


class ExemptionKind(StrEnum):
    """Which rule an exemption lifts."""

    VIP = "vip"  # no face verification after many attempts in an hour (R-K2)
    TRAVEL_WHITELIST = "travel_whitelist"  # travel visa: no device lock on fast moves (R-K2)
    CERTIFIED_ENTERPRISE = "certified_enterprise"  # no delayed arrival for large sums (R-K2)
    EDUCATION_GREEN_CHANNEL = "education_green_channel"  # education payments (R-K4)


class SubjectKind(StrEnum):
    """What an exemption is granted to."""

    USER = "user"
    ENTERPRISE = "enterprise"
    GROUP = "group"


ALLOWED_SUBJECTS: Final[Mapping[ExemptionKind, frozenset[SubjectKind]]] = MappingProxyType(
    {
        # VIP status and travel visas belong to people.
        ExemptionKind.VIP: frozenset({SubjectKind.USER}),
        ExemptionKind.TRAVEL_WHITELIST: frozenset({SubjectKind.USER}),
        # An enterprise sends through a user account, so either may carry the certification.
        ExemptionKind.CERTIFIED_ENTERPRISE: frozenset({SubjectKind.ENTERPRISE, SubjectKind.USER}),
        # Education payees can be schools (enterprises), teachers (users) or class groups.
        ExemptionKind.EDUCATION_GREEN_CHANNEL: frozenset(
            {SubjectKind.USER, SubjectKind.ENTERPRISE, SubjectKind.GROUP}
        ),
    }
)
"""Which subjects each exemption kind may be granted to."""


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a question is about: a user, an enterprise or a group, by id."""

    kind: SubjectKind
    id: str

    def __post_init__(self) -> None:
        check_member(self.kind, SubjectKind, "subject kind")
        check_id(self.id, "subject id")

    @classmethod
    def user(cls, user_id: str) -> Subject:
        return cls(SubjectKind.USER, user_id)

    @classmethod
    def enterprise(cls, enterprise_id: str) -> Subject:
        return cls(SubjectKind.ENTERPRISE, enterprise_id)

    @classmethod
    def group(cls, group_id: str) -> Subject:
        return cls(SubjectKind.GROUP, group_id)


@dataclass(frozen=True, slots=True)
class Exemption:
    """One entry of an exemption list, valid on ``[valid_from_us, valid_until_us)``."""

    id: str
    kind: ExemptionKind
    subject_kind: SubjectKind
    subject_id: str
    reason: str
    valid_from_us: int
    valid_until_us: int | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "exemption id")
        check_member(self.kind, ExemptionKind, "exemption kind")
        check_member(self.subject_kind, SubjectKind, "subject kind")
        check_id(self.subject_id, "subject id")
        check_text(self.reason, "exemption reason", max_length=MAX_REASON_LENGTH)
        check_timestamp_us(self.valid_from_us, "valid from")
        self._check_subject_allowed()
        self._check_period()

    def _check_subject_allowed(self) -> None:
        if self.subject_kind not in ALLOWED_SUBJECTS[self.kind]:
            raise IdentityError(
                f"A {self.kind.value} exemption cannot be granted to a {self.subject_kind.value}.",
                code=IdentityCode.EXEMPTION_SUBJECT_INVALID,
                exemption_id=self.id,
            )

    def _check_period(self) -> None:
        if self.valid_until_us is None:
            return
        check_timestamp_us(self.valid_until_us, "valid until")
        # An empty or reversed period would be an exemption that can never apply: almost
        # certainly swapped arguments, so it is refused instead of silently ignored.
        if self.valid_until_us <= self.valid_from_us:
            raise IdentityError(
                "An exemption must end after it starts (valid_until_us > valid_from_us).",
                code=IdentityCode.EXEMPTION_PERIOD_INVALID,
                exemption_id=self.id,
                valid_from_us=self.valid_from_us,
                valid_until_us=self.valid_until_us,
            )

    @property
    def subject(self) -> Subject:
        return Subject(self.subject_kind, self.subject_id)

    def is_valid_at(self, now_us: int) -> bool:
        """True from ``valid_from_us`` (included) until ``valid_until_us`` (excluded)."""
        return is_due(self.valid_from_us, now_us) and not is_due(self.valid_until_us, now_us)

    def applies_to(self, kind: ExemptionKind, subject: Subject, now_us: int) -> bool:
        """True when this exemption lifts ``kind`` for ``subject`` at ``now_us``."""
        return self.kind is kind and self.subject == subject and self.is_valid_at(now_us)


def applicable_exemption(
    exemptions: Iterable[Exemption], kind: ExemptionKind, subject: Subject, now_us: int
) -> Exemption | None:
    """Return the exemption of ``kind`` that covers ``subject`` at ``now_us``, or ``None``.

    When several apply, the one that stays valid longest is chosen (open-ended first, then
    the latest end, then the smallest id), so the choice does not depend on list order and
    the decision's explanation stays true for as long as possible.
    """
    check_member(kind, ExemptionKind, "exemption kind")
    matching = [
        exemption for exemption in exemptions if exemption.applies_to(kind, subject, now_us)
    ]
    if not matching:
        return None
    return min(matching, key=_longest_lasting_first)


def _longest_lasting_first(exemption: Exemption) -> tuple[bool, int, str]:
    # Sort key: open-ended (False sorts first), then later ends first, then id for stability.
    until = exemption.valid_until_us
    return (until is not None, -(until or 0), exemption.id)
