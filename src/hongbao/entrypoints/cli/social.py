"""``hongbao social show|group``: what recalls cost socially (R-S1..R-S6), read-only."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hongbao.entrypoints.cli.render import local_time
from hongbao.entrypoints.cli.session import DatabaseUrlOption, console, run
from hongbao.money import Money
from hongbao.social.views import GroupSocial, SocialStanding

social_app = typer.Typer(
    help="Social consequences of recalls: scores, bans, pair weights.", no_args_is_help=True
)


@social_app.command("show")
def show(user_id: str, database_url: DatabaseUrlOption = None) -> None:
    """A user's social payment score, active penalties and bans with their end times, lowered
    pair weights, and the newest changes with their causes."""
    standing: SocialStanding = run(database_url, lambda s: s.social.standing(user_id))
    console.print(
        f"[bold]{user_id}[/]: social payment score {standing.score} of {standing.maximum} "
        f"(starting {standing.starting})"
    )
    penalties = Table(title="active score penalties")
    for column in ("rule", "points", "packet", "until (Beijing time)"):
        penalties.add_column(column)
    for penalty in standing.penalties:
        penalties.add_row(
            penalty.rule.value,
            f"-{penalty.points}",
            penalty.packet_id,
            local_time(penalty.until_us),
        )
    console.print(penalties)
    bans = Table(title="group packets paused")
    for column in ("group", "recalls", "threshold", "until (Beijing time)"):
        bans.add_column(column)
    for ban in standing.bans:
        bans.add_row(ban.group_id, str(ban.recalls), str(ban.threshold), local_time(ban.until_us))
    console.print(bans)
    weights = Table(title="lowered pair weights")
    for column in ("towards", "weight (‰)", "most per packet", "recovers (Beijing time)"):
        weights.add_column(column)
    for weight in standing.weights:
        cap = Money.of(weight.cap_minor, standing.currency).format()
        weights.add_row(
            weight.user_id, str(weight.weight_permille), cap, local_time(weight.recovers_at_us)
        )
    console.print(weights)
    changes = Table(title="changes, newest first")
    for column in ("at", "kind", "rule", "amount", "count / allowed", "until", "packet", "with"):
        changes.add_column(column)
    for change in standing.changes:
        changes.add_row(
            local_time(change.at_us),
            change.kind.value,
            change.rule.value,
            str(change.amount),
            f"{change.count} / {change.allowed}",
            local_time(change.until_us),
            change.packet_id,
            change.group_id or change.other_user_id or "-",
        )
    console.print(changes)


@social_app.command("group")
def group(
    group_id: Annotated[str, typer.Argument(help="the group")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """The senders who recalled in a group: their recent recalls there and their bans."""
    found: GroupSocial = run(database_url, lambda s: s.social.group_standing(group_id))
    console.print(
        f"[bold]{group_id}[/] ({found.group.group_type.value}): {found.threshold} recalls "
        f"within {found.window_hours} h pause a sender's group packets"
    )
    table = Table(title="senders")
    for column in ("sender", "recalls in window", "paused from", "paused until"):
        table.add_column(column)
    for standing in found.standings:
        table.add_row(
            standing.user_id,
            str(len(standing.recalls_us)),
            local_time(standing.banned_from_us),
            local_time(standing.banned_until_us),
        )
    console.print(table)
