"""/help, /whoami, and the fallback: an unknown command or a plain message to the bot gets the help text.

Listed last in bot/app.py so every other router gets the first chance.
"""

from __future__ import annotations

import difflib

from bot.commands import chinese_name
from bot.context import Context
from bot.events import Command, Message, Role
from bot.replies import Reply
from bot.router import Router, to_bot
from prompts import command_specs

router = Router("help")


def _summary(ctx: Context, spec: dict) -> str:
    return spec.get("summary_en", "") if ctx.prompts.locale == "en" else spec.get("summary_zh", "")


def _usage_with_alias(ctx: Context, name: str, spec: dict) -> str:
    usage = spec.get("usage", "/" + name)
    zh = chinese_name(name)
    if zh:  # both names, the reader's language first: /预测（/forecast） in zh-CN, /forecast (/预测) in en
        usage = usage.replace("/" + name, ctx.t("core.help_name_alias", name=name, alias=zh), 1)
    return usage


def help_text(ctx: Context, only: str | None = None) -> str:
    specs = command_specs()
    if only:
        from bot.commands import alias_table

        name = alias_table().get(only.lstrip("/").lower())
        if name:
            spec = specs[name]
            usage = _usage_with_alias(ctx, name, spec)
            # the names the usage line does not show already ("/预测（/forecast）" shows the name and the Chinese one)
            rest = [str(a) for a in spec.get("aliases", ()) if str(a) != chinese_name(name)]
            return ctx.t("core.help_one", usage=usage, summary=_summary(ctx, spec),
                         aliases=ctx.t("core.help_aliases", aliases=" ".join("/" + str(a) for a in rest)) if rest else "")
        near = close_commands(only)
        if near:  # "/帮助 预则": the close commands, not the whole list
            return _near_text(ctx, only.lstrip("/"), near)
    lines = [ctx.t("core.unknown_command", name=only.lstrip("/"))] if only else []
    lines.append(ctx.t("core.help_title"))
    for name, spec in specs.items():
        lines.append(ctx.t("core.help_line", usage=_usage_with_alias(ctx, name, spec), summary=_summary(ctx, spec)))
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


def close_commands(name: str, limit: int = 3) -> list[str]:
    """Command names a mistyped one probably meant (/预则 → forecast, /forcast → forecast), best first."""
    from bot.commands import alias_table

    table = alias_table()  # every name and alias → its command
    word = name.lstrip("/").lower()
    # one wrong character of two is half the word: a short word may differ more, a long one less
    near = difflib.get_close_matches(word, list(table), n=limit * 3, cutoff=0.5 if len(word) <= 2 else 0.6)
    near += [a for a in table if len(word) >= 2 and (word in a or a in word) and a not in near]
    return list(dict.fromkeys(table[a] for a in near))[:limit]


@router.on(Command)
def on_unknown(event: Command, ctx: Context) -> None:
    """A command nobody handled: say so and what it probably was (never silence). The whole list only when nothing
    is close: 35 lines for a typo would bury the chat (and split into several messages on WeCom)."""
    near = close_commands(event.name)
    if not near:
        ctx.reply(Reply.plain(ctx.t("core.unknown_command", name=event.name) + "\n" + help_text(ctx)))
        return
    ctx.reply(Reply.plain(_near_text(ctx, event.name, near)))


def _near_text(ctx: Context, typed: str, near: list[str]) -> str:
    specs = command_specs()
    lines = [ctx.t("core.unknown_command_near", name=typed)]
    for name in near:
        spec = specs[name]
        lines.append(ctx.t("core.help_line", usage=_usage_with_alias(ctx, name, spec), summary=_summary(ctx, spec)))
    lines.append(ctx.t("core.unknown_command_more"))
    return "\n".join(lines)


@router.on(Message, to_bot())
def on_plain_message(event: Message, ctx: Context) -> None:
    """Free text to the bot that no capability claimed."""
    if event.actor.role in (Role.CUSTOMER,):
        return
    ctx.reply(Reply.plain(ctx.t("core.not_a_command")))
