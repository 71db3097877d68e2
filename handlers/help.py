"""/help, /whoami, and the fallback: an unknown command or a plain message to the bot gets the help text.

Listed last in bot/app.py so every other router gets the first chance.
"""

from __future__ import annotations

from bot.context import Context
from bot.events import Command, Message, Role
from bot.replies import Reply
from bot.router import Router, to_bot
from prompts import command_specs

router = Router("help")


def _summary(ctx: Context, spec: dict) -> str:
    return spec.get("summary_en", "") if ctx.prompts.locale == "en" else spec.get("summary_zh", "")


def help_text(ctx: Context, only: str | None = None) -> str:
    specs = command_specs()
    if only:
        from bot.commands import alias_table

        name = alias_table().get(only.lstrip("/").lower())
        if name:
            spec = specs[name]
            return ctx.t("core.help_one", usage=spec.get("usage", "/" + name), summary=_summary(ctx, spec),
                         aliases=" ".join("/" + a for a in spec.get("aliases", ())) or "—")
    lines = [ctx.t("core.unknown_command", name=only.lstrip("/"))] if only else []
    lines.append(ctx.t("core.help_title"))
    for name, spec in specs.items():
        usage = spec.get("usage", "/" + name)
        aliases = [a for a in spec.get("aliases", ()) if not str(a).isascii()]
        if aliases:  # show the Chinese name next to the English one: /forecast（/预测）, /forecast (/预测) in en
            usage = usage.replace("/" + name, ctx.t("core.help_name_alias", name=name, alias=aliases[0]), 1)
        lines.append(ctx.t("core.help_line", usage=usage, summary=_summary(ctx, spec)))
    lines.append(ctx.t("core.help_footer"))
    return "\n".join(lines)


@router.command("help")
def on_help(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    ctx.reply(Reply.plain(help_text(ctx, args[0] if args else None)))


@router.command("whoami")
def on_whoami(event: Command, ctx: Context, args: tuple[str, ...]) -> None:
    actor = event.actor
    if actor.role in (Role.UNKNOWN, Role.CUSTOMER):
        ctx.reply(ctx.t("core.whoami_unknown", platform_id=actor.platform_id))
        return
    team = ctx.directory.teams.get(actor.team, (ctx.t("core.no_team"), None))[0] if actor.team else ctx.t("core.no_team")
    ctx.reply(ctx.t("core.whoami", name=actor.display, role=ctx.t(f"core.role_{actor.role.value}"), team=team,
                    admin=ctx.t("core.whoami_admin") if actor.is_admin else ""))


@router.on(Command)
def on_unknown(event: Command, ctx: Context) -> None:
    """A command nobody handled: say so, then show the list (never silence)."""
    ctx.reply(Reply.plain(ctx.t("core.unknown_command", name=event.name) + "\n" + help_text(ctx)))


@router.on(Message, to_bot())
def on_plain_message(event: Message, ctx: Context) -> None:
    """Free text to the bot that no capability claimed."""
    if event.actor.role in (Role.CUSTOMER,):
        return
    ctx.reply(Reply.plain(ctx.t("core.not_a_command")))
