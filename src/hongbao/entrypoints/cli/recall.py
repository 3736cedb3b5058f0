"""``hongbao recall …``, ``hongbao explain`` and ``hongbao decisions``: recalls from the command
line, every answer explained in zh-CN or English."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from hongbao.bootstrap import Services
from hongbao.entrypoints.cli.render import local_time, money_text
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import CliCommand, write
from hongbao.identity.devices import DeviceFingerprint, parse_conditions
from hongbao.packets.social_feed import recalled_packet
from hongbao.platform.clock import from_datetime
from hongbao.platform.errors import InvalidInput
from hongbao.platform.i18n import Language, parse_language
from hongbao.recall.calendar import zone
from hongbao.recall.errors import RecallCode
from hongbao.recall.explanations import explain, reason_text
from hongbao.recall.model import Decision, DecisionResult, FactValue
from hongbao.recall.service import RecallCommand, RecallOutcome
from hongbao.social.words import RecallCost

recall_app = typer.Typer(help="Recall (撤回) a red packet.", no_args_is_help=True)
decisions_app = typer.Typer(help="Recorded recall decisions.", no_args_is_help=True)

UserOption = Annotated[str, typer.Option("--as", help="who asks (the sender, to recall)")]
DeviceOption = Annotated[str, typer.Option("--device", help="the device id asking")]
SimOption = Annotated[
    str | None, typer.Option("--sim", help="its SIM id (default: the registered one)")
]
LanguageOption = Annotated[str, typer.Option("--lang", help="zh or en")]
ConditionOption = Annotated[
    list[str] | None,
    typer.Option(
        "--condition",
        help="a condition the device reports (R-D6): power_saving, game_acceleration; repeatable",
    ),
]
ChallengeOption = Annotated[
    list[str] | None, typer.Option("--challenge", help="a passed challenge id (repeatable)")
]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="ISO time, Beijing if no offset (a what-if: not recorded)"),
]


def fingerprint(
    services: Services,
    user_id: str,
    device_id: str,
    sim_id: str | None,
    conditions: list[str] | None = None,
) -> DeviceFingerprint:
    """The device as a fingerprint; without ``--sim``, the SIM the user registered with it;
    with the conditions the client reports (R-D6), checked as the HTTP header is."""
    reported = parse_conditions(",".join(conditions or ()))
    if sim_id is not None:
        return DeviceFingerprint(device_id, sim_id, reported)
    for device in services.identity.devices_of(user_id):
        if device.device_id == device_id:
            return DeviceFingerprint(device.device_id, device.sim_id, reported)
    raise InvalidInput(
        f"{user_id} has no device {device_id!r}; give --sim for another's device",
        code=RecallCode.UNKNOWN_DEVICE,
    )


@recall_app.command("eligibility")
def recall_eligibility(
    packet_id: str,
    user: UserOption,
    device: DeviceOption,
    sim: SimOption = None,
    condition: ConditionOption = None,
    lang: LanguageOption = "zh",
    database_url: DatabaseUrlOption = None,
) -> None:
    """The recall button: enabled, challenge (which verifications) or disabled, and why; and
    what the recall would cost socially (never part of the decision)."""

    def ask(s: Services) -> tuple[Decision, RecallCost]:
        asker = fingerprint(s, user, device, sim, condition)
        decision = s.recalls.eligibility(packet_id, user, asker)
        packet = s.packets.packet(packet_id)
        preview = recalled_packet(
            packet, f"preview:{packet.id}", packet.remainder_minor, s.clock.now_us()
        )
        return decision, s.social.recall_cost(preview)

    decision, cost = run(database_url, ask)
    language = parse_language(lang)
    _print_explanation(decision, language)
    if decision.result is not DecisionResult.DENY:
        console.print(f"  ! {cost.in_language(language)}")


@recall_app.command("request")
def recall_request(
    packet_id: str,
    user: UserOption,
    device: DeviceOption,
    key: Annotated[str, typer.Option("--key", help="idempotency key: reuse it to retry")],
    challenge: ChallengeOption = None,
    accept_balance: Annotated[
        bool,
        typer.Option("--accept-balance", help="accept the balance when smart routing offers it"),
    ] = False,
    sim: SimOption = None,
    condition: ConditionOption = None,
    lang: LanguageOption = "zh",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Recall a packet. Repeating with the same key is harmless: it returns the first outcome;
    after a challenge, repeat it with the passed challenge ids (or --accept-balance)."""

    def request(s: Services) -> RecallOutcome:
        asker = fingerprint(s, user, device, sim, condition)
        command = RecallCommand(
            key, packet_id, user, asker, tuple(challenge or ()), accept_balance=accept_balance
        )
        return s.recalls.recall(command)

    arguments: dict[str, object] = {"packet": packet_id, "user": user, "device": device}
    arguments["sim"] = sim
    arguments |= {"challenges": sorted(challenge or ()), "accept_balance": accept_balance}
    command = CliCommand("recall.request", key, arguments, continuable=True, keeps_its_answers=True)
    write(
        database_url,
        command,
        request,
        lambda outcome: _print_outcome(outcome, parse_language(lang)),
    )


@recall_app.command("status")
def recall_status(
    key: str, lang: LanguageOption = "zh", database_url: DatabaseUrlOption = None
) -> None:
    """Where a recall stands, by its idempotency key."""
    _print_outcome(run(database_url, lambda s: s.recalls.status(key)), parse_language(lang))


def explain_command(
    packet_id: str,
    user: UserOption,
    device: DeviceOption,
    sim: SimOption = None,
    condition: ConditionOption = None,
    at: AtOption = None,
    lang: LanguageOption = "zh",
    database_url: DatabaseUrlOption = None,
) -> None:
    """The full rule trace of a recall decision for this packet, user and device."""
    at_us = _parse_time(at) if at else None

    def decide(s: Services) -> Decision:
        asker = fingerprint(s, user, device, sim, condition)
        if at_us is None:
            return s.recalls.eligibility(packet_id, user, asker)
        return s.recalls.what_if(packet_id, user, asker, at_us)

    decision = run(database_url, decide)
    language = parse_language(lang)
    _print_trace(decision, language)
    _print_explanation(decision, language)
    if at_us is not None:
        console.print(f"(what-if at {local_time(at_us)} Beijing time: not recorded)")


@decisions_app.command("show")
def decisions_show(
    decision_id: str, lang: LanguageOption = "zh", database_url: DatabaseUrlOption = None
) -> None:
    """A recorded decision: its policy version, every rule's outcome and the explanation."""
    record, decision = run(database_url, lambda s: s.recalls.decision(decision_id))
    console.print(
        f"decision {record.decision_id} ({record.purpose.value}"
        f"{', shadow' if record.shadow else ''}) for {record.requester_id} on {record.packet_id}"
        f" at {local_time(record.created_at_us)}, policy {record.policy_version}"
    )
    language = parse_language(lang)
    _print_trace(decision, language)
    _print_explanation(decision, language)


def _parse_time(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO time: {text!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone("Asia/Shanghai"))  # people type Beijing time
    return from_datetime(moment)


def _print_outcome(outcome: RecallOutcome, language: Language) -> None:
    recall = outcome.recall
    line = f"recall {recall.idempotency_key} of {recall.packet_id}: {recall.state.value}"
    if recall.recalled_minor is not None and recall.route is not None:
        returned = money_text(recall.recalled_minor, recall.currency)
        line += f", {returned} {recall.currency} back ({recall.route.value})"
    if recall.refund_id is not None:
        line += f", refund {recall.refund_id} (hongbao refunds show {recall.refund_id})"
    console.print(line)
    _print_explanation(outcome.decision, language)


def _print_explanation(decision: Decision, language: Language) -> None:
    explanation = explain(decision, language)
    console.print(f"[bold]{explanation.button.value}[/] — {explanation.headline}")
    for reason in explanation.reasons:
        console.print(f"  • {reason}")
    if explanation.refund is not None:
        console.print(f"  ¥ {explanation.refund}")
    for step in explanation.next_steps:
        console.print(f"  → {step}")
    console.print(f"decision {decision.decision_id}, policy {decision.policy_version}")


TIME_FACTS = frozenset(
    {
        "now",
        "sent_at",
        "closes_at",
        "expires_at",
        "first_claim_at",
        "registered_at",
        "new_until",
        "arrives_at",
        "frozen_until",
    }
)


def _fact_text(name: str, value: FactValue) -> str:
    if name in TIME_FACTS and isinstance(value, int) and not isinstance(value, bool):
        return local_time(value)  # facts keep microseconds; people read Beijing time
    return "-" if value is None else str(value)


def _print_trace(decision: Decision, language: Language) -> None:
    table = Table(title=f"rule trace: {decision.result.value}")
    for column in ("rule", "req", "verdict", "reason", "facts", "in words"):
        table.add_column(column)
    for outcome in decision.outcomes:
        facts = ", ".join(f"{name}={_fact_text(name, value)}" for name, value in outcome.facts)
        words = reason_text(outcome, language) if outcome.reason else ""
        reason = outcome.reason.value if outcome.reason else ""
        if outcome.exempted_by:
            reason = f"exempt: {', '.join(outcome.exempted_by)}"
        table.add_row(
            outcome.rule, outcome.requirement, outcome.verdict.value, reason, facts, words
        )
    console.print(table)
