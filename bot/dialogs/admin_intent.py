"""``intent …`` from the agents' or admins' channel (admins only; the role check is made once,
in ``admin_verbs``): list, show, create, add or remove examples, set the action, retire.

Examples are separated by ``|`` or new lines: ``intent add pizza_order I want a pizza | can I
order pizza``. A change to the examples retrains the model in the background once the change
commits (``catalog.retraining_wanted``); an action is served from the next message."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypedDict

from bot.commands import CommandCall
from bot.dialogs import replies
from bot.dialogs.desk_context import DeskContext
from bot.errors import InvalidCommand, NotFound
from bot.intents import catalog, store
from bot.intents.actions import IntentAction, parse_action

logger = logging.getLogger(__name__)

_SEPARATOR = re.compile(r"\s*(?:\||\n)\s*")


def _examples(text: str) -> list[str]:
    found = [part for part in _SEPARATOR.split(text) if part.strip()]
    if not found:
        raise InvalidCommand(replies.INTENT_USAGE)
    return found


def _name_and_rest(args: str) -> tuple[str, str]:
    name, _, rest = args.strip().partition(" ")
    if not name:
        raise InvalidCommand(replies.INTENT_USAGE)
    return name, rest.strip()


class _Who(TypedDict):
    actor: str
    platform: str
    at: datetime


def _who(ctx: DeskContext) -> _Who:
    return {
        "actor": f"{ctx.agent} ({ctx.name})",
        "platform": ctx.inbound.platform,
        "at": ctx.uow.clock.now(),
    }


def _accuracy(evaluation: dict[str, object], name: str) -> str:
    per_intent = evaluation.get("per_intent")
    tally = per_intent.get(name) if isinstance(per_intent, dict) else None
    if not tally:
        return "not measured (fewer than 5 examples, or not trained yet)"
    right, held = tally
    return f"{right}/{held}"


async def _evaluation(ctx: DeskContext) -> dict[str, object]:
    newest = await store.latest(ctx.uow.session)
    return newest.evaluation if newest is not None else {}


async def _list(ctx: DeskContext, args: str) -> None:
    evaluation = await _evaluation(ctx)
    rows = []
    for s in await catalog.list_intents(ctx.uow.session):
        notes = " · built in" if s.builtin else ""
        notes += " · retired" if s.retired else ""
        notes += f" · {s.action.describe()}" if s.action else ""
        accuracy = _accuracy(evaluation, s.name).split(" (")[0]
        rows.append((s.name, s.examples, "—" if s.retired else accuracy, notes))
    ctx.answer(replies.intent_list(rows, str(evaluation.get("method", ""))))


async def _show(ctx: DeskContext, args: str) -> None:
    name, _ = _name_and_rest(args)
    session = ctx.uow.session
    if name in catalog.builtin_intents():
        texts = catalog.builtin_examples(name)
        accuracy = _accuracy(await _evaluation(ctx), name)
        ctx.answer(replies.intent_details(name, texts, "", accuracy, builtin=True))
        return
    record = await catalog.find_intent(session, name)
    if record is None:
        raise NotFound(f"There is no intent '{name[:64]}'. See 'intent list'.")
    action = IntentAction.from_data(record.action)
    described = action.describe() if action else ""
    if record.retired_at is not None:
        described = f"nothing (retired) — {described or 'the default'}"
    texts = await catalog.examples_of(session, name)
    accuracy = _accuracy(await _evaluation(ctx), name)
    ctx.answer(replies.intent_details(name, texts, described, accuracy, builtin=False))


async def _create(ctx: DeskContext, args: str) -> None:
    name, rest = _name_and_rest(args)
    created = await catalog.create_intent(ctx.uow.session, name, **_who(ctx))
    ctx.answer(replies.intent_created(name, created))
    if rest:
        await _add(ctx, args)


async def _add(ctx: DeskContext, args: str) -> None:
    name, rest = _name_and_rest(args)
    outcome = await catalog.add(ctx.uow.session, name, _examples(rest), **_who(ctx))
    ctx.answer(replies.intent_examples_added(name, len(outcome.added), outcome.already))
    if outcome.added:
        ctx.answer(replies.INTENT_RETRAINING)


async def _examples_verb(ctx: DeskContext, args: str) -> None:
    name, rest = _name_and_rest(args)
    verb, _, texts = rest.partition(" ")
    if verb.lower() == "add":
        await _add(ctx, f"{name} {texts}")
        return
    if verb.lower() != "remove":
        raise InvalidCommand(replies.INTENT_USAGE)
    removed = await catalog.remove(ctx.uow.session, name, _examples(texts), **_who(ctx))
    ctx.answer(replies.intent_examples_removed(name, len(removed)))
    if removed:
        ctx.answer(replies.INTENT_RETRAINING)


async def _retire(ctx: DeskContext, args: str) -> None:
    name, _ = _name_and_rest(args)
    count = await catalog.retire_intent(ctx.uow.session, name, **_who(ctx))
    ctx.answer(replies.intent_retired(name, count))
    ctx.answer(replies.INTENT_RETRAINING)


async def _action(ctx: DeskContext, args: str) -> None:
    name, rest = _name_and_rest(args)
    action = parse_action(rest)
    queues = [q.name for q in ctx.desk.queues]
    await catalog.set_action(ctx.uow.session, name, action, queues=queues, **_who(ctx))
    ctx.answer(replies.intent_action_set(name, action.describe() if action else ""))


_SUBCOMMANDS: dict[str, Callable[[DeskContext, str], Awaitable[None]]] = {
    "list": _list,
    "show": _show,
    "create": _create,
    "add": _add,
    "examples": _examples_verb,
    "retire": _retire,
    "action": _action,
}


async def intent_verb(ctx: DeskContext, call: CommandCall) -> None:
    """``intent SUBCOMMAND …`` (an admin's: checked before this runs)."""
    sub, _, rest = call.args.strip().partition(" ")
    handler = _SUBCOMMANDS.get(sub.lower())
    if handler is None:
        ctx.answer(replies.INTENT_USAGE)
        return
    await handler(ctx, rest)
