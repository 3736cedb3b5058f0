"""``hongbao users|devices|groups|funding|challenges|population``: identity from the command line.

Thin entry points: parse, call the identity, funding or social service, render.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hongbao.bootstrap import Services
from hongbao.entrypoints.cli.render import local_time, money_text
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.entrypoints.cli.writes import (
    KeyOption,
    fresh_key,
    keyed,
    natural_key,
    write,
)
from hongbao.entrypoints.population import LoadReport, load_population
from hongbao.entrypoints.wallet import SourceBalance, balances
from hongbao.funding.sources import (
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingSource,
    mask_card_number,
)
from hongbao.identity.devices import (
    Device,
    DeviceFingerprint,
    FormFactor,
    Platform,
    VendorSkin,
    derive_capabilities,
)
from hongbao.identity.exemptions import Exemption, ExemptionKind, Subject, SubjectKind
from hongbao.identity.users import (
    MICROSECONDS_PER_DAY,
    AccountTier,
    AgeBand,
    Enterprise,
    RealNameStatus,
    User,
    UserStatus,
    UserType,
    mask_corporate_account,
)
from hongbao.identity.verification import (
    AnswerAttempt,
    AnswerOutcome,
    ChallengeKind,
    ChallengeRequest,
    OperatorContext,
)
from hongbao.platform.errors import HongbaoError
from hongbao.social.groups import Group, GroupMember, GroupType, Relationship

users_app = typer.Typer(help="Users: tiers, types, status.", no_args_is_help=True)
devices_app = typer.Typer(help="Devices and their derived capabilities.", no_args_is_help=True)
groups_app = typer.Typer(help="Groups and their members.", no_args_is_help=True)
funding_app = typer.Typer(help="Funding sources (money a user can pay with).", no_args_is_help=True)
challenges_app = typer.Typer(help="Step-up verification challenges.", no_args_is_help=True)
population_app = typer.Typer(help="The demo population.", no_args_is_help=True)


# ------------------------------------------------------------------------------------- users


@users_app.command("list")
def users_list(database_url: DatabaseUrlOption = None, limit: int = 100) -> None:
    """List users with their tier, type and status."""
    found = run(database_url, lambda s: s.identity.users(limit))
    table = Table(title=f"{len(found)} user(s)")
    for column in ("id", "name", "tier", "type", "real name", "age band", "VIP", "status"):
        table.add_column(column)
    for user in found:
        status = user.status.value + (f" ({user.status_reason})" if user.status_reason else "")
        table.add_row(
            user.id,
            user.display_name,
            user.tier.value,
            user.user_type.value,
            user.real_name_status.value,
            user.age_band.value if user.age_band else "-",
            "yes" if user.is_vip else "",
            status,
        )
    console.print(table)


@users_app.command("show")
def users_show(user_id: str, database_url: DatabaseUrlOption = None) -> None:
    """One user with their devices (and capabilities), funding sources with what each holds
    (零钱通's frozen refunds and a card's open holds too) and their relationships."""

    def gather(
        s: Services,
    ) -> tuple[User, list[Device], list[SourceBalance], list[Relationship], list[Exemption]]:
        return (
            s.identity.user(user_id),
            s.identity.devices_of(user_id),
            balances(s, user_id),
            s.social.relationships_of(user_id),
            s.identity.exemptions_of(Subject.user(user_id)),
        )

    user, devices, sources, relationships, exemptions = run(database_url, gather)
    console.print(
        f"[bold]{escape(user.display_name)}[/] ({user.id}) — {user.tier.value}, "
        f"{user.user_type.value}, {user.status.value}"
    )
    _print_devices(devices)
    _print_balances(sources)
    _print_relationships(relationships)
    _print_exemptions(exemptions)


def _print_balances(sources: list[SourceBalance]) -> None:
    table = Table(title="funding sources")
    for column in ("id", "kind", "balance", "available", "frozen (release)", "open holds"):
        table.add_column(column, overflow="fold")
    for source in sources:
        frozen = ", ".join(
            f"{money_text(entry.amount_minor, source.currency)} ({local_time(entry.release_at_us)})"
            for entry in source.frozen
        )
        holds = ", ".join(
            f"{money_text(entry.amount_minor, source.currency)} ({entry.packet_id})"
            for entry in source.holds
        )
        table.add_row(
            source.source_id,
            source.kind.value,
            money_text(source.balance_minor, source.currency),
            money_text(source.available_minor, source.currency),
            frozen or "-",
            holds or "-",
        )
    console.print(table)


def _print_relationships(relationships: list[Relationship]) -> None:
    table = Table(title="relationships")
    for column in ("with", "chat rank", "intimacy", "weight"):
        table.add_column(column)
    for item in relationships:
        rank = "-" if item.chat_frequency_rank is None else str(item.chat_frequency_rank)
        table.add_row(item.to_user_id, rank, str(item.intimacy), str(item.weight))
    console.print(table)


def _print_exemptions(exemptions: list[Exemption]) -> None:
    table = Table(title="exemptions")
    for column in ("id", "kind", "reason", "from (Beijing time)", "until"):
        table.add_column(column)
    for item in exemptions:
        until = "open-ended" if item.valid_until_us is None else local_time(item.valid_until_us)
        table.add_row(item.id, item.kind.value, item.reason, local_time(item.valid_from_us), until)
    console.print(table)


@users_app.command("add")
def users_add(
    user_id: str,
    name: Annotated[str, typer.Option("--name")],
    tier: Annotated[AccountTier, typer.Option("--tier")] = AccountTier.CLASS_I,
    user_type: Annotated[UserType, typer.Option("--type")] = UserType.NORMAL,
    age_band: Annotated[AgeBand | None, typer.Option("--age-band")] = None,
    vip: Annotated[bool, typer.Option("--vip")] = False,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Register a user (idempotent: the user id is the default key) with their balance
    account."""

    def register(s: Services) -> User:
        real_name = (
            RealNameStatus.NOT_VERIFIED
            if tier is AccountTier.UNVERIFIED
            else RealNameStatus.VERIFIED
        )
        user = User(user_id, name, tier, user_type, s.clock.now_us(), real_name, age_band, vip)
        return s.identity.register_user(user)

    arguments = {"user": user_id, "name": name, "tier": tier, "type": user_type}
    command = keyed(
        "users.add",
        key,
        natural_key("users.add", user_id),
        {**arguments, "age_band": age_band, "vip": vip},
    )
    write(
        database_url,
        command,
        register,
        lambda user: console.print(f"registered {user.id} ({user.tier.value})"),
    )


@users_app.command("set-status")
def users_set_status(
    user_id: str,
    status: UserStatus,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Mark a user normal, abnormal or frozen (a reason is required unless normal)."""
    command = keyed(
        "users.set-status",
        key,
        fresh_key("users.set-status"),
        {"user": user_id, "status": status, "reason": reason},
    )
    write(
        database_url,
        command,
        lambda s: s.identity.set_status(user_id, status, reason),
        lambda user: console.print(f"{user.id} is {user.status.value}"),
    )


# ----------------------------------------------------------------------------------- devices


def _print_devices(devices: list[Device]) -> None:
    table = Table(title="devices")
    for column in ("device id", "SIM", "platform", "OS", "skin", "model", "form", "capabilities"):
        table.add_column(column)
    for device in devices:
        capabilities = derive_capabilities(device)
        table.add_row(
            device.device_id,
            device.sim_id,
            device.platform.value,
            device.os_version,
            device.vendor_skin.value,
            device.model,
            device.form_factor.value,
            "; ".join(item.reason for item in capabilities.items) or "-",
        )
    console.print(table)


@devices_app.command("add")
def devices_add(
    user_id: str,
    device_id: str,
    sim_id: str,
    platform: Annotated[Platform, typer.Option("--platform")],
    os_version: Annotated[str, typer.Option("--os-version")],
    model: Annotated[str, typer.Option("--model")],
    form_factor: Annotated[FormFactor, typer.Option("--form-factor")] = FormFactor.PHONE,
    skin: Annotated[VendorSkin, typer.Option("--skin")] = VendorSkin.NONE,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Register a device (device id + SIM) to a user (the device is the default key)."""

    def register(s: Services) -> Device:
        device = Device(
            device_id,
            user_id,
            sim_id,
            platform,
            os_version,
            skin,
            model,
            form_factor,
            s.clock.now_us(),
        )
        return s.identity.register_device(device)

    arguments = {"user": user_id, "device": device_id, "sim": sim_id, "platform": platform}
    arguments |= {"os": os_version, "model": model, "form": form_factor, "skin": skin}
    command = keyed("devices.add", key, natural_key("devices.add", device_id, sim_id), arguments)
    write(database_url, command, register, lambda device: _print_devices([device]))


@devices_app.command("show")
def devices_show(device_id: str, sim_id: str, database_url: DatabaseUrlOption = None) -> None:
    """A device by its fingerprint, with the capabilities its rules give it."""
    device = run(database_url, lambda s: s.identity.device(DeviceFingerprint(device_id, sim_id)))
    _print_devices([device])


# ------------------------------------------------------------------------------------ groups


@groups_app.command("show")
def groups_show(group_id: str, database_url: DatabaseUrlOption = None) -> None:
    """A group and its members with their join times."""
    group, members = run(
        database_url, lambda s: (s.social.group(group_id), s.social.members(group_id))
    )
    table = Table(title=f"{group.name} ({group.group_type.value}, owner {group.owner_user_id})")
    table.add_column("member")
    table.add_column("joined (Beijing time)")
    table.add_column("left")
    for member in members:
        table.add_row(
            member.user_id, local_time(member.joined_at_us), local_time(member.left_at_us)
        )
    console.print(table)


@groups_app.command("add")
def groups_add(
    group_id: str,
    name: Annotated[str, typer.Option("--name")],
    group_type: Annotated[GroupType, typer.Option("--type")],
    owner: Annotated[str, typer.Option("--owner")],
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a group; its owner becomes its first member (the group id is the default key)."""
    command = keyed(
        "groups.add",
        key,
        natural_key("groups.add", group_id),
        {"group": group_id, "name": name, "type": group_type, "owner": owner},
    )
    write(
        database_url,
        command,
        lambda s: s.social.create_group(Group(group_id, name, group_type, owner, s.clock.now_us())),
        lambda group: console.print(f"created {group.id} ({group.group_type.value})"),
    )


@groups_app.command("add-member")
def groups_add_member(
    group_id: str, user_id: str, key: KeyOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """Add a user to a group from now on."""
    command = keyed(
        "groups.add-member",
        key,
        fresh_key("groups.add-member"),
        {"group": group_id, "user": user_id},
    )
    write(
        database_url,
        command,
        lambda s: s.social.add_member(GroupMember(group_id, user_id, s.clock.now_us())),
        lambda _member: console.print(f"{user_id} joined {group_id}"),
    )


@users_app.command("relate")
def users_relate(
    from_user: str,
    to_user: str,
    chat_rank: Annotated[int | None, typer.Option("--chat-rank")] = None,
    intimacy: Annotated[int, typer.Option("--intimacy")] = 50,
    weight: Annotated[int, typer.Option("--weight")] = 100,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Set how one user relates to another (chat-frequency rank, intimacy, weight)."""
    relationship = Relationship(from_user, to_user, chat_rank, intimacy, weight)
    command = keyed(
        "users.relate",
        key,
        fresh_key("users.relate"),
        {"from": from_user, "to": to_user, "rank": chat_rank, "intimacy": intimacy},
    )
    write(
        database_url,
        command,
        lambda s: s.social.set_relationship(relationship),
        lambda _relationship: console.print(
            f"{from_user} -> {to_user}: rank {chat_rank}, intimacy {intimacy}"
        ),
    )


@users_app.command("exempt")
def users_exempt(
    exemption_id: str,
    kind: Annotated[ExemptionKind, typer.Option("--kind")],
    subject_id: Annotated[str, typer.Option("--subject")],
    reason: Annotated[str, typer.Option("--reason")],
    subject_kind: Annotated[SubjectKind, typer.Option("--subject-kind")] = SubjectKind.USER,
    days: Annotated[int | None, typer.Option("--days", help="valid for; omit: open-ended")] = None,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Put a user, an enterprise or a group on an exemption list, from now on (the
    exemption id is the default key)."""

    def add(s: Services) -> Exemption:
        start = s.clock.now_us()
        until = None if days is None else start + days * MICROSECONDS_PER_DAY
        exemption = Exemption(exemption_id, kind, subject_kind, subject_id, reason, start, until)
        return s.identity.add_exemption(exemption)

    arguments: dict[str, object] = {"exemption": exemption_id, "kind": kind, "subject": subject_id}
    arguments |= {"reason": reason, "subject_kind": subject_kind, "days": days}
    write(
        database_url,
        keyed("users.exempt", key, natural_key("users.exempt", exemption_id), arguments),
        add,
        lambda exemption: console.print(
            f"{exemption.id}: {exemption.kind.value} for {exemption.subject_id}"
        ),
    )


@users_app.command("enterprise")
def users_enterprise(
    enterprise_id: str,
    name: Annotated[str, typer.Option("--name")],
    owner: Annotated[str, typer.Option("--owner")],
    corporate_account: Annotated[
        str | None, typer.Option("--corporate-account", help="full number; only its mask is kept")
    ] = None,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Register an enterprise; with a corporate account on file it counts as certified (the
    enterprise id is the default key)."""
    masked = None if corporate_account is None else mask_corporate_account(corporate_account)
    enterprise = Enterprise(enterprise_id, name, owner, masked is not None, masked)
    command = keyed(
        "users.enterprise",
        key,
        natural_key("users.enterprise", enterprise_id),
        {"enterprise": enterprise_id, "name": name, "owner": owner, "account": masked},
    )
    write(
        database_url,
        command,
        lambda s: s.identity.register_enterprise(enterprise),
        lambda registered: console.print(
            f"registered {registered.id} (certified: {registered.is_certified})"
        ),
    )


# ----------------------------------------------------------------------------------- funding


@funding_app.command("add-card")
def funding_add_card(
    user_id: str,
    source_id: str,
    kind: Annotated[str, typer.Option("--kind", help="debit, credit or foreign")],
    number: Annotated[str, typer.Option("--number", prompt=True, hide_input=True)],
    bank: Annotated[str, typer.Option("--bank", help="bank or issuer")] = "",
    statement_day: Annotated[int, typer.Option("--statement-day")] = 1,
    currency: Annotated[str, typer.Option("--currency")] = "USD",
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add a card; only its masked number is kept. The number is prompted for if not given
    (the source id is the default key)."""

    def add(s: Services) -> str:
        masked = mask_card_number(number)
        source: FundingSource
        if kind == "debit":
            source = DebitCardSource(source_id, user_id, bank, masked)
        elif kind == "credit":
            source = CreditCardSource(source_id, user_id, bank, masked, statement_day)
        elif kind == "foreign":
            source = ForeignCardSource(source_id, user_id, currency, masked)
        else:
            raise typer.BadParameter("kind is debit, credit or foreign")
        s.funding.add_funding_source(source)
        return masked

    # The card's number stays out of the fingerprint, which is stored: its mask stands in.
    arguments: dict[str, object] = {"user": user_id, "source": source_id, "kind": kind}
    arguments |= {"bank": bank, "number": _mask_or_none(number), "day": statement_day}
    arguments["currency"] = currency
    write(
        database_url,
        keyed("funding.add-card", key, natural_key("funding.add-card", source_id), arguments),
        add,
        lambda masked: console.print(f"added {source_id}: {masked}"),
    )


# -------------------------------------------------------------------------------- challenges


@challenges_app.command("open")
def challenges_open(
    challenge_id: str,
    user_id: str,
    device_id: str,
    sim_id: str,
    purpose: str,
    kind: Annotated[ChallengeKind, typer.Option("--kind")] = ChallengeKind.SMS_CODE,
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Open a step-up challenge for a user's device and a purpose (the challenge id is the
    default key)."""
    request = ChallengeRequest(
        challenge_id, kind, user_id, DeviceFingerprint(device_id, sim_id), purpose
    )
    arguments = {"challenge": challenge_id, "user": user_id, "device": device_id}
    arguments |= {"sim": sim_id, "purpose": purpose, "kind": kind}
    write(
        database_url,
        keyed("challenges.open", key, natural_key("challenges.open", challenge_id), arguments),
        lambda s: s.identity.open_challenge(request),
        lambda challenge: console.print(
            f"{challenge.challenge_id}: {challenge.kind.value}, {challenge.max_attempts} attempts"
        ),
    )


@challenges_app.command("answer")
def challenges_answer(
    challenge_id: str,
    user_id: str,
    device_id: str,
    sim_id: str,
    purpose: str,
    answer: Annotated[str, typer.Option("--answer", prompt=True, hide_input=True)],
    key: KeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Answer a challenge (the code is prompted for and never echoed). Each run is an
    attempt, unless repeated with the first one's ``--key``."""
    attempt = AnswerAttempt(user_id, DeviceFingerprint(device_id, sim_id), purpose, answer)

    def show(outcome: AnswerOutcome) -> None:
        left = outcome.attempts_remaining
        console.print(f"{outcome.result.value}{'' if left is None else f', {left} left'}")

    # The answer stays out of the fingerprint, which is stored: a code is easily guessed.
    arguments = {"challenge": challenge_id, "user": user_id, "device": device_id}
    arguments |= {"sim": sim_id, "purpose": purpose}
    write(
        database_url,
        keyed("challenges.answer", key, fresh_key("challenges.answer"), arguments),
        lambda s: s.identity.answer_challenge(challenge_id, attempt),
        show,
    )


@challenges_app.command("reveal")
def challenges_reveal(
    challenge_id: str,
    operator: Annotated[str, typer.Option("--operator", help="the operator's id")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Operators only, simulated provider only: show the SMS code of a drill or demo."""
    context = OperatorContext(actor_id=operator, is_operator=True)
    code = run(database_url, lambda s: s.identity.operator_reveal_code(challenge_id, context))
    console.print(code)


# -------------------------------------------------------------------------------- population


@population_app.command("load")
def population_load(key: KeyOption = None, database_url: DatabaseUrlOption = None) -> None:
    """Load the demo population (every tier, platform, funding source and group type) once."""

    def show(report: LoadReport) -> None:
        if report.already_loaded:
            console.print("the demo population is already loaded")
            return
        console.print(
            "loaded: " + ", ".join(f"{count} {what}" for what, count in report.created.items())
        )

    write(
        database_url,
        keyed("population.load", key, fresh_key("population.load"), {}),
        lambda s: load_population(s.identity, s.funding, s.social),
        show,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(devices_app, name="devices")
    app.add_typer(groups_app, name="groups")
    app.add_typer(funding_app, name="funding")
    app.add_typer(challenges_app, name="challenges")
    app.add_typer(population_app, name="population")


def _mask_or_none(number: str) -> str | None:
    """The card's mask for the command's fingerprint; None for a number no mask is made of
    (the command itself then refuses it, with its code)."""
    try:
        return mask_card_number(number)
    except HongbaoError:
        return None
