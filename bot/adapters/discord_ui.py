"""Discord components for the help desk: payload buttons and the Reply modal.

A button's ``custom_id`` is its payload (``verb:case:arg``); a button that opens a form (Reply)
carries the payload behind ``form/``. One ``DynamicItem`` whose template matches every
payload-shaped ``custom_id`` is registered when the client starts, so buttons on messages sent
before a restart keep working: nothing about a button lives only in memory.

A click is acknowledged first (``defer``, well inside Discord's 3 s) and then handed over; a form
button instead answers with the modal, which must be the *first* response to the click — but only
for someone the agent gate lets through: anyone else's click is handed over as a click, and the
desk refuses it privately.

A submitted modal is handled from the interaction alone (``form_submission``): its ``custom_id``
carries the payload, its fields the text. So a Reply form opened before a restart, in another
process, or by two agents on one case at once (same ``custom_id``) always reaches the desk; the
``Modal`` object discord.py keeps only draws the form and expires.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import discord

from bot.messages import Button, split_payload

FORM_PREFIX = "form/"
TEXT_FIELD = "text"
_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
    "default": discord.ButtonStyle.secondary,
}
# Discord: at most 5 buttons in a row and 25 on a message; labels up to 80 characters.
MAX_BUTTONS = 25
# how long discord.py keeps an open form's object; the submission never depends on it
FORM_DRAWING_SECONDS = 15 * 60
_TEXT_INPUT, _ACTION_ROW, _LABEL = 4, 1, 18  # Discord component types

# (interaction, payload) for a click; (interaction, payload, text, fields) for a submitted
# form (fields: the article form's, else empty); (interaction, payload) -> may this person
# open the form?
ClickHandler = Callable[[discord.Interaction[Any], str], Awaitable[None]]
FormHandler = Callable[[discord.Interaction[Any], str, str, dict[str, str]], Awaitable[None]]
FormGate = Callable[[discord.Interaction[Any], str], bool]


def custom_id_for(button: Button) -> str:
    return f"{FORM_PREFIX}{button.payload}" if button.opens_form else button.payload


class PayloadButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"(?P<form>form/)?(?P<payload>[a-z_]+:[^:]*:.*)",
):
    """Any help-desk button, on any message, before or after a restart."""

    def __init__(
        self, payload: str, *, opens_form: bool = False, label: str = "", style: str = ""
    ) -> None:
        self.payload = payload
        self.opens_form = opens_form
        super().__init__(
            discord.ui.Button(
                label=label[:80] or None,
                style=_STYLES.get(style, discord.ButtonStyle.secondary),
                custom_id=f"{FORM_PREFIX}{payload}" if opens_form else payload,
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PayloadButton:
        return cls(match["payload"], opens_form=bool(match["form"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handlers = _handlers_of(interaction.client)
        if handlers is None:
            return
        on_click, _, may_open_form = handlers  # a form's submission: ``handle_form_submission``
        if self.opens_form and may_open_form(interaction, self.payload):
            await interaction.response.send_modal(form_for(self.payload))
            return
        await interaction.response.defer()
        await on_click(interaction, self.payload)


# The article form (``kb::add``, ``kb::edit SLUG``): custom_id → (label, paragraph, limit).
# Discord allows 5 components and 4,000 characters per input; the answer is held to 3,000 so
# the same article fits a Slack modal and, with its title, one Telegram message.
ARTICLE_FIELDS = {
    "title": ("Title", False, 150),
    "body": ("Answer (Markdown; ## starts a section)", True, 3000),
    "questions": ("Questions it answers, one per line", True, 2000),
}


def form_for(payload: str) -> discord.ui.Modal:
    """The modal a form button with ``payload`` opens."""
    return ArticleForm(payload) if split_payload(payload)[0] == "kb" else PayloadForm(payload)


class ArticleForm(discord.ui.Modal):
    """The article form: a new draft, or an edit whose blank fields keep the article's text
    (the adapter cannot read the article to fill them in; the preview above the button shows
    it). Like ``PayloadForm`` it only draws: the submission is read from the interaction."""

    def __init__(self, payload: str) -> None:
        _, _, arg = split_payload(payload)
        op, _, slug = arg.partition(" ")
        editing = op == "edit" and bool(slug)
        super().__init__(
            title=(f"Edit {slug}" if editing else "New article")[:45],
            custom_id=f"{FORM_PREFIX}{payload}"[:100],
            timeout=FORM_DRAWING_SECONDS,
        )
        for name, (label, paragraph, limit) in ARTICLE_FIELDS.items():
            self.add_item(
                discord.ui.TextInput(
                    label=label[:45],
                    style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
                    custom_id=name,
                    max_length=limit,
                    required=not editing and name != "questions",
                    placeholder="Leave blank to keep it." if editing else None,
                )
            )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Nothing here: answering twice would fail (see ``handle_form_submission``)."""


class PayloadForm(discord.ui.Modal):
    """The modal a form button opens: one paragraph field. It only draws the form: the
    submission is handled by ``handle_form_submission`` in whichever process receives it."""

    def __init__(self, payload: str) -> None:
        verb, case, _ = split_payload(payload)
        title = f"{verb.capitalize()} — case #{case}" if case else verb.capitalize()
        super().__init__(
            title=title[:45],
            custom_id=f"{FORM_PREFIX}{payload}"[:100],
            timeout=FORM_DRAWING_SECONDS,
        )
        self.payload = payload
        self.text: discord.ui.TextInput[PayloadForm] = discord.ui.TextInput(
            label="Message",
            style=discord.TextStyle.paragraph,
            custom_id=TEXT_FIELD,
            max_length=4000,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Nothing here: answering twice would fail (see ``handle_form_submission``)."""


def form_submission(data: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``(payload, text)`` of a submitted help-desk form, read from the interaction's data
    alone; None for any other modal."""
    custom_id = str((data or {}).get("custom_id", ""))
    if not custom_id.startswith(FORM_PREFIX):
        return None
    payload = custom_id.removeprefix(FORM_PREFIX)
    if payload.count(":") < 2:
        return None
    return payload, _field_value((data or {}).get("components") or (), TEXT_FIELD)


def article_fields(data: Mapping[str, Any] | None) -> dict[str, str]:
    """The article form's fields (``title``, ``body``, ``questions``) as submitted."""
    components = (data or {}).get("components") or ()
    return {name: _field_value(components, name) for name in ARTICLE_FIELDS}


def _field_value(components: Sequence[Mapping[str, Any]], custom_id: str) -> str:
    """A text input's value, inside action rows (classic modals) or labels (newer ones)."""
    for component in components:
        kind = component.get("type")
        if kind == _ACTION_ROW:
            found = _field_value(component.get("components") or (), custom_id)
        elif kind == _LABEL:
            found = _field_value([component.get("component") or {}], custom_id)
        elif kind == _TEXT_INPUT and component.get("custom_id") == custom_id:
            found = str(component.get("value") or "")
        else:
            found = ""
        if found:
            return found
    return ""


async def handle_form_submission(interaction: discord.Interaction[Any]) -> bool:
    """Acknowledge and hand over a submitted help-desk form; False for anything else."""
    if interaction.type != discord.InteractionType.modal_submit:
        return False
    submitted = form_submission(interaction.data)
    handlers = _handlers_of(interaction.client)
    if submitted is None or handlers is None:
        return False
    await interaction.response.defer()
    payload, text = submitted
    fields = article_fields(interaction.data) if split_payload(payload)[0] == "kb" else {}
    await handlers[1](interaction, payload, text, fields)
    return True


def view_for(buttons: Sequence[Button]) -> discord.ui.View | None:
    """A persistent view (no timeout) of the buttons, or None for a message without any."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for button in buttons[:MAX_BUTTONS]:
        if custom_id_for(button) in seen:  # Discord refuses duplicate custom_ids on a message
            continue
        seen.add(custom_id_for(button))
        view.add_item(
            PayloadButton(
                button.payload, opens_form=button.opens_form, label=button.label, style=button.style
            )
        )
    return view


def _handlers_of(client: discord.Client) -> tuple[ClickHandler, FormHandler, FormGate] | None:
    handlers = getattr(client, "helpdesk_handlers", None)
    return handlers if isinstance(handlers, tuple) else None
