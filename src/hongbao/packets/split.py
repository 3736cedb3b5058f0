"""How a red packet's total is shared out: fixed shares and lucky (random) shares.

Pure domain code: no I/O, no clock, no global randomness. Amounts are :class:`Money`
(integer minor units; fen for CNY). The smallest share is :data:`MIN_SHARE_MINOR` = one
minor unit (0.01 CNY, R-P3).

Fixed split (群普通红包, :func:`split_fixed`)
    Exactly :meth:`Money.split`: every share gets ``floor(total / n)`` fen and the remainder
    ``r = total mod n`` goes as one extra fen to each of the *first* ``r`` shares. 1.00 CNY in
    3 shares is ``[0.34, 0.33, 0.33]``.

Lucky split (群拼手气红包, :func:`split_lucky`), algorithm ``double-mean/hmac-sha256/v1``
    The double-mean method (二倍均值法), in an integer form that is *exactly* unbiased.

    Random stream. ``key`` is the seed (a ``str`` seed is encoded as ASCII, so ``"abc…"`` and
    ``b"abc…"`` give the same stream). Block ``j = 0, 1, 2, …`` is
    ``HMAC-SHA256(key, b"double-mean/hmac-sha256/v1" + j.to_bytes(8, "big"))``; each 32-byte
    block is read as four big-endian unsigned 64-bit words, and the words of block 0, then
    block 1, … form the stream. ``uniform_below(s)`` (``s >= 1``) takes the next word ``w``;
    if ``w < 2**64 - 2**64 % s`` it returns ``w % s``, otherwise it discards ``w`` and takes
    the next (rejection sampling: every value in ``[0, s)`` is exactly equally likely).
    Every call consumes at least one word, even ``uniform_below(1)``.

    Shares. With ``n`` shares of ``total`` fen, ``remaining = total``; for each position
    ``i = 0 … n-2``, with ``k = n - i`` shares still to give::

        surplus = remaining - k * MIN_SHARE_MINOR          # money above the guaranteed minima
        a, b = divmod(2 * surplus, k)                      # 2 * surplus / k == a + b / k
        m = a + 1 if uniform_below(k) < b else a           # randomised rounding of 2*surplus/k
        share_i = MIN_SHARE_MINOR + uniform_below(m + 1)   # uniform in [MIN, MIN + m]
        remaining -= share_i

    and the last share is ``remaining``. Shares are returned in this draw order.

    Why this form. The classic method draws uniformly from ``(0, 2 * mean)``. In whole fen the
    obvious translation, uniform in ``[1, floor(2 * remaining / k)]`` clamped to leave a fen
    for everyone else, is biased: its mean is about half a fen *above* ``remaining / k``, so
    early positions win and the last one pays, which matters for small packets (3 fen in 2
    shares). Here each share is the minimum plus a uniform draw from ``[0, m]`` whose upper end
    ``m`` is ``2 * surplus / k`` rounded down or up with exactly the probabilities that make
    ``E[m] = 2 * surplus / k``. Hence ``E[share_i | remaining] = remaining / k`` exactly.

    Guarantees.
    * Every share is at least ``MIN_SHARE_MINOR``: ``m <= ceil(2 * surplus / k) <= surplus``
      for ``k >= 2``, so each draw leaves at least the minimum for every later share, and no
      clamp is ever needed.
    * The shares add up to the total exactly (checked with :func:`invariant`).
    * Unbiased per position: ``E[share_i] = total / n`` for *every* position ``i``, the last
      one included. Proof by induction: ``E[remaining_i] = total * (n - i) / n``, and
      ``E[share_i] = E[remaining_i] / (n - i) = total / n``; the last share is the remaining
      amount, whose expectation is ``total / n``. So the order of claims favours nobody in
      expectation (the *spread* does grow towards the end, as with every double-mean split).
    * A non-last share is at most ``MIN + ceil(2 * surplus / k)``: about twice the current mean.
    * Reproducible: the shares depend only on ``(total.minor, n, seed)``; the currency is
      carried along. :meth:`LuckySplit.verify` re-derives them for audit.

    The seed must be unpredictable and kept secret until the packet is finished (generate it
    with ``secrets.token_bytes(32)``): anyone who knows it knows every share in advance. The
    algorithm string is stored with every split; a change of the algorithm must get a new
    version string, and the golden vectors in the tests fail on any silent change.

Errors are :class:`PacketError` (or :class:`PacketLimitError` for limits) with stable codes:
``packets.total_not_money``, ``packets.shares_invalid``, ``packets.too_many_shares``,
``packets.max_shares_invalid``, ``packets.total_too_large``, ``packets.total_too_small``
(lucky), ``packets.share_below_minimum`` (fixed), ``packets.seed_invalid``,
``packets.unknown_algorithm``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from hongbao.money import Money
from hongbao.packets.errors import PacketCode
from hongbao.platform.errors import InvalidInput, LimitExceeded
from hongbao.platform.invariants import invariant
from hongbao.platform.limits import MAX_SPLIT_PARTS, MAX_TRANSFER_AMOUNT

__all__ = [
    "LUCKY_ALGORITHM",
    "MAX_GROUP_SHARES",
    "MAX_SEED_LENGTH",
    "MIN_SEED_LENGTH",
    "MIN_SHARE_MINOR",
    "LuckySplit",
    "PacketError",
    "PacketLimitError",
    "split_fixed",
    "split_lucky",
]

LUCKY_ALGORITHM: Final = "double-mean/hmac-sha256/v1"
"""The version of the lucky split implemented here; stored with every :class:`LuckySplit`."""

MIN_SHARE_MINOR: Final = 1
"""The smallest share, in minor units: one fen (0.01 CNY)."""

MAX_GROUP_SHARES: Final = 200
"""Default upper bound on the number of shares of a group packet (policy may pass another)."""

MIN_SEED_LENGTH: Final = 16
"""Fewest bytes (or ASCII characters) in a seed: 128 bits when the seed is random bytes."""

MAX_SEED_LENGTH: Final = 128
"""Most bytes (or ASCII characters) in a seed."""

_STREAM_LABEL: Final = LUCKY_ALGORITHM.encode("ascii")
_WORD_BITS: Final = 64
_WORD_BYTES: Final = _WORD_BITS // 8
_WORD_RANGE: Final = 1 << _WORD_BITS
_BLOCK_COUNTER_BYTES: Final = 8
# Visible ASCII only: no spaces to be trimmed and no Unicode to be normalised on the way to and
# from storage, so the seed that is recorded is byte for byte the key that was used.
_SEED_TEXT_CHARACTERS: Final = frozenset(chr(code) for code in range(0x21, 0x7F))


class PacketError(InvalidInput):
    """A packet split that hongbao refuses; nothing was written."""

    code = PacketCode.INVALID


class PacketLimitError(PacketError, LimitExceeded):
    """A packet split over a limit; catchable both as PacketError and as LimitExceeded."""

    code = PacketCode.LIMIT_EXCEEDED


# --- public API -------------------------------------------------------------------------------


def split_fixed(
    total: Money, shares: int, *, max_shares: int = MAX_GROUP_SHARES
) -> tuple[Money, ...]:
    """Split ``total`` into ``shares`` equal shares for a group_normal packet (群普通红包).

    Remainder rule (that of :meth:`Money.split`): every share gets ``floor(total / shares)``
    fen and the first ``total mod shares`` shares get one extra fen, so shares differ by at
    most one fen, never increase, and add up to ``total`` exactly.

    Refused: ``shares`` outside ``1..max_shares`` (default :data:`MAX_GROUP_SHARES`), a total
    above ``MAX_TRANSFER_AMOUNT``, and a total so small that a share would be below one fen
    (``packets.share_below_minimum``).
    """
    _check_request(total, shares, max_shares)
    if total.minor < shares * MIN_SHARE_MINOR:
        raise PacketError(
            f"{total.display()} in {shares} equal shares would give shares below the minimum "
            f"of {MIN_SHARE_MINOR} minor unit each.",
            code=PacketCode.SHARE_BELOW_MINIMUM,
            total=total.minor,
            shares=shares,
            minimum=MIN_SHARE_MINOR,
        )
    result = tuple(total.split(shares))
    _check_shares_post_condition(total, shares, result)
    return result


def split_lucky(
    total: Money, shares: int, seed: bytes | str, *, max_shares: int = MAX_GROUP_SHARES
) -> LuckySplit:
    """Split ``total`` into ``shares`` random shares for a group_lucky packet (群拼手气红包).

    The algorithm is ``double-mean/hmac-sha256/v1``, defined exactly in this module's
    docstring. The result records the seed and the algorithm, so that
    :meth:`LuckySplit.verify` can re-derive it. The same arguments always give the same shares.

    Refused: ``shares`` outside ``1..max_shares`` (default :data:`MAX_GROUP_SHARES`), a total
    above ``MAX_TRANSFER_AMOUNT`` or below one fen per share (``packets.total_too_small``), and
    a seed that is not 16..128 bytes or visible-ASCII characters (``packets.seed_invalid``).
    """
    _check_request(total, shares, max_shares)
    if total.minor < shares * MIN_SHARE_MINOR:
        raise PacketError(
            f"{total.display()} is too small for {shares} shares of at least "
            f"{MIN_SHARE_MINOR} minor unit each.",
            code=PacketCode.TOTAL_TOO_SMALL,
            total=total.minor,
            shares=shares,
            minimum=MIN_SHARE_MINOR,
        )
    key = _seed_key(seed)
    minor_shares = _double_mean(total.minor, shares, _HmacStream(key).uniform_below)
    result = tuple(Money(share, total.currency) for share in minor_shares)
    _check_shares_post_condition(total, shares, result)
    return LuckySplit(total, result, seed, LUCKY_ALGORITHM)


@dataclass(frozen=True, slots=True)
class LuckySplit:
    """A lucky split and everything needed to re-derive it for audit.

    ``shares`` are in draw order (share 0 was drawn first). ``seed`` is kept exactly as given
    and ``algorithm`` names the version that produced the shares.
    """

    total: Money
    shares: tuple[Money, ...]
    seed: bytes | str
    algorithm: str

    def __post_init__(self) -> None:
        if not isinstance(self.total, Money):
            raise _not_money(self.total)
        if not isinstance(self.shares, tuple) or not all(
            isinstance(share, Money) for share in self.shares
        ):
            raise PacketError(
                "A lucky split's shares must be a tuple of Money.",
                code=PacketCode.SHARES_INVALID,
                shares=repr(self.shares)[:200],
            )
        if not isinstance(self.seed, bytes | str):
            raise _seed_error(self.seed, "must be bytes or text")
        if not isinstance(self.algorithm, str):
            raise PacketError(
                f"A lucky split's algorithm must be text, got {type(self.algorithm).__name__}.",
                code=PacketCode.UNKNOWN_ALGORITHM,
                algorithm=repr(self.algorithm)[:200],
            )

    def verify(self) -> bool:
        """True when re-deriving the split from ``total``, share count and seed gives ``shares``.

        Any difference (a changed, moved, reordered, added or removed share, another seed,
        total or currency) gives False, as does a record that no split could have produced.
        The share count is checked against the hard limit ``MAX_SPLIT_PARTS``, not the current
        group policy, so that a packet made under an older policy still verifies. A split made
        by an algorithm this code does not implement cannot be checked and raises
        ``packets.unknown_algorithm``.
        """
        if self.algorithm != LUCKY_ALGORITHM:
            raise PacketError(
                f"Cannot verify a split made by {self.algorithm!r}; this code implements "
                f"{LUCKY_ALGORITHM!r}.",
                code=PacketCode.UNKNOWN_ALGORITHM,
                algorithm=self.algorithm[:200],
            )
        try:
            expected = split_lucky(
                self.total, len(self.shares), self.seed, max_shares=MAX_SPLIT_PARTS
            )
        except PacketError:
            return False
        return expected.shares == self.shares


# --- the algorithm ----------------------------------------------------------------------------


class _HmacStream:
    """The documented random stream: HMAC-SHA256 blocks cut into 64-bit words."""

    __slots__ = ("_block", "_key", "_words")

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._block = 0
        self._words: list[int] = []

    def _next_word(self) -> int:
        if not self._words:
            message = _STREAM_LABEL + self._block.to_bytes(_BLOCK_COUNTER_BYTES, "big")
            digest = hmac.digest(self._key, message, "sha256")
            self._block += 1
            words = [
                int.from_bytes(digest[start : start + _WORD_BYTES], "big")
                for start in range(0, len(digest), _WORD_BYTES)
            ]
            words.reverse()  # popped from the end, so the first word comes out first
            self._words = words
        return self._words.pop()

    def uniform_below(self, span: int) -> int:
        """A uniform integer in ``[0, span)``, by rejection sampling (no modulo bias)."""
        invariant(0 < span <= _WORD_RANGE, "a draw needs 1 <= span <= 2**64", span=span)
        limit = _WORD_RANGE - _WORD_RANGE % span
        while True:
            word = self._next_word()
            if word < limit:
                return word % span


def _double_mean(total: int, count: int, uniform_below: Callable[[int], int]) -> list[int]:
    """The shares of the double-mean method, in draw order (see the module docstring)."""
    shares: list[int] = []
    remaining = total
    for drawn in range(count - 1):
        share = _next_share(remaining, count - drawn, uniform_below)
        shares.append(share)
        remaining -= share
    shares.append(remaining)
    return shares


def _next_share(remaining: int, left: int, uniform_below: Callable[[int], int]) -> int:
    """The next share while ``left >= 2`` shares split ``remaining``; mean ``remaining / left``."""
    surplus = remaining - left * MIN_SHARE_MINOR
    invariant(
        left >= 2 and surplus >= 0,
        "a draw needs two shares and the minima covered",
        remaining=remaining,
        left=left,
    )
    whole, fraction = divmod(2 * surplus, left)
    upper = whole + 1 if uniform_below(left) < fraction else whole
    share = MIN_SHARE_MINOR + uniform_below(upper + 1)
    invariant(
        MIN_SHARE_MINOR <= share <= remaining - (left - 1) * MIN_SHARE_MINOR,
        "every draw leaves at least the minimum for each later share",
        remaining=remaining,
        left=left,
        share=share,
    )
    return share


# --- checks -----------------------------------------------------------------------------------


def _check_request(total: object, shares: object, max_shares: object) -> None:
    if type(max_shares) is not int or not 1 <= max_shares <= MAX_SPLIT_PARTS:
        raise PacketError(
            f"max_shares must be an int from 1 to {MAX_SPLIT_PARTS}, got {max_shares!r}.",
            code=PacketCode.MAX_SHARES_INVALID,
            max_shares=repr(max_shares),
        )
    if not isinstance(total, Money):
        raise _not_money(total)
    # bool is an int subclass: True shares is a mistake, not one share.
    if type(shares) is not int or shares < 1:
        raise PacketError(
            f"A packet needs a whole number of shares, at least 1, got {shares!r}.",
            code=PacketCode.SHARES_INVALID,
            shares=repr(shares),
        )
    if shares > max_shares:
        raise PacketLimitError(
            f"A packet may have at most {max_shares} shares, got {shares}.",
            code=PacketCode.TOO_MANY_SHARES,
            shares=shares,
            limit=max_shares,
        )
    if total.minor > MAX_TRANSFER_AMOUNT:
        raise PacketLimitError(
            f"A packet may hold at most {MAX_TRANSFER_AMOUNT} minor units, got {total.minor}.",
            code=PacketCode.TOTAL_TOO_LARGE,
            total=total.minor,
            limit=MAX_TRANSFER_AMOUNT,
        )


def _not_money(total: object) -> PacketError:
    return PacketError(
        f"A packet total must be Money (integer minor units), got {type(total).__name__} "
        f"{total!r}; floats are never amounts. Use Money.parse('12.34', 'CNY').",
        code=PacketCode.TOTAL_NOT_MONEY,
        value=repr(total)[:200],
    )


def _seed_key(seed: object) -> bytes:
    """The HMAC key for ``seed``: bytes as they are, text as ASCII; both 16..128 long."""
    if isinstance(seed, bytes):
        key = seed
    elif isinstance(seed, str):
        if not set(seed) <= _SEED_TEXT_CHARACTERS:
            raise _seed_error(seed, "as text must be visible ASCII characters (no spaces)")
        key = seed.encode("ascii")
    else:
        raise _seed_error(seed, "must be bytes or text")
    if not MIN_SEED_LENGTH <= len(key) <= MAX_SEED_LENGTH:
        raise _seed_error(
            seed, f"must be {MIN_SEED_LENGTH} to {MAX_SEED_LENGTH} long, got {len(key)}"
        )
    return key


def _seed_error(seed: object, problem: str) -> PacketError:
    # The seed itself is never put in the error: it decides every share of the packet.
    return PacketError(
        f"A lucky split seed {problem}.",
        code=PacketCode.SEED_INVALID,
        seed_type=type(seed).__name__,
    )


def _check_shares_post_condition(total: Money, count: int, shares: tuple[Money, ...]) -> None:
    invariant(
        len(shares) == count
        and all(share.currency == total.currency for share in shares)
        and all(share.minor >= MIN_SHARE_MINOR for share in shares)
        and sum(share.minor for share in shares) == total.minor,
        "packet shares are at least the minimum each and add up exactly to the total",
        total=total.minor,
        shares=count,
    )
