"""Step-up checks opened and spent inside another context's unit of work.

A recall opens the checks its decision asks for and spends the ones it used, in its own
transaction, so that a check never serves two recalls and a recall never runs on an unpassed
check. It does so through these functions; the challenge tables stay identity's.
"""

from __future__ import annotations

from hongbao.identity.ports import IdentityRepository
from hongbao.identity.verification import (
    Challenge,
    ChallengeRequest,
    ConsumeRequest,
    ConsumeResult,
    VerificationProvider,
    consume_challenge,
    open_challenge,
)


def find_challenge(identity: IdentityRepository, challenge_id: str) -> Challenge | None:
    return identity.challenges.get(challenge_id)


def lock_challenge(identity: IdentityRepository, challenge_id: str) -> Challenge | None:
    return identity.challenges.lock(challenge_id)


def open_new_challenge(
    identity: IdentityRepository,
    request: ChallengeRequest,
    now_us: int,
    provider: VerificationProvider,
) -> bool:
    """Open the check ``request`` names and have ``provider`` issue its secret; False, and
    nothing written, when its id is taken already."""
    if identity.challenges.get(request.challenge_id) is not None:
        return False
    challenge, secret = open_challenge(request, now_us, provider)
    identity.challenges.insert(challenge)
    identity.secrets.insert(secret)
    return True


def spend_challenge(
    identity: IdentityRepository, challenge: Challenge, request: ConsumeRequest, now_us: int
) -> ConsumeResult:
    """Spend a passed check once, for exactly the request's user, device, purpose and kind;
    the result says whether it was spent and, if not, why."""
    consumed, outcome = consume_challenge(challenge, request, now_us)
    if outcome.result is ConsumeResult.CONSUMED:
        identity.challenges.replace(consumed)
    return outcome.result
