"""What a recall decision means to the person holding the phone (R-U1): pure, no I/O.

Every denial maps to one user-facing cause (:class:`Cause`: the six of R-U1, or one of the two
with nothing left to recall) and comes with a plain
sentence per failing rule, in zh-CN and en, and the next steps: retry at a time, complete a
named verification, switch to the sending device, or contact support quoting the decision id.

The wording lives in catalogues keyed by enum (:data:`REASON_TEXTS`, :data:`CAUSES`,
:data:`CAUSE_NAMES`, :data:`VERIFICATION_STEPS`); the tests check that each one covers its whole
enum, so a new reason code or challenge kind without words fails the suite instead of reaching
a user as a bare code. Each sentence reads its rule's facts through the rule's typed shape
(:mod:`hongbao.recall.rule_facts`): a missing or malformed fact drops the detail it would have
added, never the sentence. Amounts are fen integers shown as yuan with two decimals; times are
Beijing time (Asia/Shanghai).

The modules: ``words`` (messages and their pieces), ``causes``, a module of reasons per family
(``packet_reasons``, ``account_reasons``, ``device_reasons``, ``risk_reasons``, ``refund_texts``),
``reasons`` (the catalogue), ``steps`` (next steps) and ``explain``. The language of an
answer is ``hongbao.platform.i18n``'s.
"""

from __future__ import annotations

from hongbao.recall.explanations.causes import CAUSE_NAMES, CAUSES, Cause, cause_name
from hongbao.recall.explanations.explain import ButtonState, Explanation, explain
from hongbao.recall.explanations.reasons import REASON_TEXTS, reason_text
from hongbao.recall.explanations.refund_texts import refund_text
from hongbao.recall.explanations.steps import (
    VERIFICATION_STEPS,
    VerificationTexts,
    next_step_text,
)
from hongbao.recall.explanations.words import Texts

__all__ = [
    "CAUSES",
    "CAUSE_NAMES",
    "REASON_TEXTS",
    "VERIFICATION_STEPS",
    "ButtonState",
    "Cause",
    "Explanation",
    "Texts",
    "VerificationTexts",
    "cause_name",
    "explain",
    "next_step_text",
    "reason_text",
    "refund_text",
]
