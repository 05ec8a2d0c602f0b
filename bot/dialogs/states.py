"""The customer dialog as a pure state machine: ``decide(state, data, signal, policy)``.

No I/O here: the engine loads the session, understands the message, calls ``decide`` and then
carries out the returned commands. States::

    idle ──question──► suggested ──"helped"──► idle
      │  └─miss──► idle(misses=1) ──miss──► case_open
      └─"talk to a person" (nothing asked yet) ──► collecting ──details──► case_open
    case_open ──agent claims──► with_agent ──agent resolves──► resolved ⇄ commenting
    resolved: a rating ──► commenting ──a message (the comment) or Skip──► resolved
    resolved ──the customer writes again (within the reopen window)──► case_open / with_agent
    resolved ──the reopen window passes (the engine checks the case)──► idle

``reset`` goes back to idle from anywhere (an open case stays open); a session left alone longer
than the stale timeout starts over.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.dialogs import replies
from bot.messages import Button


class State(enum.StrEnum):
    IDLE = "idle"
    SUGGESTED = "suggested"
    COLLECTING = "collecting"
    CASE_OPEN = "case_open"
    WITH_AGENT = "with_agent"
    RESOLVED = "resolved"
    COMMENTING = "commenting"  # rated; the next message is a comment on the rating


SMALL_TALK = {"greet", "thanks", "goodbye", "affirm", "deny", "bot_challenge"}
_SMALL_TALK_REPLIES = {
    "greet": replies.GREETING,
    "thanks": replies.THANKS,
    "bot_challenge": replies.BOT_CHALLENGE,
}
HISTORY_LIMIT = 12


@dataclass(frozen=True)
class Hit:
    """The best knowledge-base match for a message."""

    slug: str
    title: str
    snippet: str
    reference: str
    score: float


@dataclass(frozen=True)
class Said:
    """The customer wrote something; this is what the bot understood of it."""

    text: str
    intent: str | None = None
    confidence: float = 0.0
    hit: Hit | None = None
    unsupported_language: bool = False
    has_attachments: bool = False
    tags: tuple[str, ...] = ()  # from entities (products named …): queues route on them
    attachments: tuple[str, ...] = ()  # names of the files sent with it (never kept)


@dataclass(frozen=True)
class Clicked:
    """The customer pressed a button (or picked a numbered choice)."""

    verb: str
    case: str = ""
    arg: str = ""


@dataclass(frozen=True)
class Verb:
    """The customer used a command (``/status``)."""

    verb: str
    case_number: int | None = None
    arg: str = ""  # the rest of the command (``/link CODE``)


Signal = Said | Clicked | Verb


@dataclass(frozen=True)
class Policy:
    answer_threshold: float = 0.42
    intent_threshold: float = 0.5


# --- commands for the engine -----------------------------------------------------------------


@dataclass(frozen=True)
class OpenCase:
    subject: str
    intent: str | None
    priority: str = "normal"
    history: tuple[str, ...] = ()  # the customer's messages so far, oldest first
    suggested: str | None = None  # the article the bot last suggested
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddToCase:
    text: str
    acknowledge: bool


@dataclass(frozen=True)
class ShowStatus:
    pass


@dataclass(frozen=True)
class CloseCase:
    case_number: int | None


@dataclass(frozen=True)
class RecordSuggestion:
    """An article was shown; its feedback row waits for the answer."""

    query: str
    slug: str
    score: float


@dataclass(frozen=True)
class RecordFeedback:
    helpful: bool
    feedback_id: int | None = None  # the row RecordSuggestion created


@dataclass(frozen=True)
class RateCase:
    case_number: int
    rating: int


@dataclass(frozen=True)
class CommentOnRating:
    case_number: int
    text: str


@dataclass(frozen=True)
class ReopenCase:
    """The customer wrote after their case was resolved: reopen it with this message (the
    engine only lets a session stay ``resolved`` while the reopen window is open)."""

    case_number: int
    text: str


@dataclass(frozen=True)
class ShowLinkCode:
    pass


@dataclass(frozen=True)
class LinkIdentity:
    code: str


Command = (
    OpenCase
    | AddToCase
    | ShowStatus
    | CloseCase
    | RecordSuggestion
    | RecordFeedback
    | RateCase
    | CommentOnRating
    | ReopenCase
    | ShowLinkCode
    | LinkIdentity
)


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Decision:
    state: State
    data: Mapping[str, Any]
    replies: tuple[Reply, ...] = ()
    commands: tuple[Command, ...] = ()


@dataclass
class _Draft:
    state: State
    data: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)

    def say(self, text: str, buttons: Sequence[Button] = ()) -> _Draft:
        self.replies.append(Reply(text, tuple(buttons)))
        return self

    def do(self, command: Command) -> _Draft:
        self.commands.append(command)
        return self

    def to(self, state: State) -> _Draft:
        self.state = state
        return self

    def done(self) -> Decision:
        return Decision(self.state, self.data, tuple(self.replies), tuple(self.commands))


def decide(state: State, data: Mapping[str, Any], signal: Signal, policy: Policy) -> Decision:
    """What to say and do next. ``data`` holds misses, history (the customer's questions so far),
    the suggested article and the case number."""
    draft = _Draft(state, dict(data))
    if isinstance(signal, Verb):
        return _on_verb(draft, signal).done()
    if isinstance(signal, Clicked):
        return _on_click(draft, signal).done()
    return _on_said(draft, signal, policy).done()


def _on_verb(d: _Draft, verb: Verb) -> _Draft:
    match verb.verb:
        case "status":
            return d.do(ShowStatus())
        case "close":
            return d.do(CloseCase(verb.case_number or d.data.get("case")))
        case "reset":
            return _reset(d)
        case "human":
            return _handoff(d, intent="human_handoff")
        case "start":
            return d.say(replies.GREETING)
        case "link":  # a code of digits only parses as a case number: it is still the code
            code = verb.arg or (str(verb.case_number) if verb.case_number is not None else "")
            return d.do(LinkIdentity(code) if code else ShowLinkCode())
        case _:
            return d.say(replies.HELP)


def _on_click(d: _Draft, click: Clicked) -> _Draft:
    match click.verb:
        case "helped":
            if d.state == State.SUGGESTED:
                d.do(_feedback(d, helpful=True))
            _answered(d)
            return d.to(State.IDLE).say(replies.GLAD_IT_HELPED)
        case "human":
            if d.state == State.SUGGESTED:
                d.do(_feedback(d, helpful=False))
            return _handoff(d, intent="human_handoff")
        case "rate" if click.case.isdigit() and click.arg.isdigit():
            d.do(RateCase(int(click.case), int(click.arg)))
            if d.state in (State.CASE_OPEN, State.WITH_AGENT, State.COLLECTING):
                return d.say(replies.RATING_THANKS)  # an old case's buttons: stay where we are
            d.data = {"case": int(click.case)}
            return d.to(State.COMMENTING).say(replies.RATING_THANKS, replies.skip_button())
        case "skip" if d.state == State.COMMENTING:
            return d.to(State.RESOLVED).say(replies.COMMENT_SKIPPED)
        case _:
            return d.say(replies.HELP)


def _on_said(d: _Draft, said: Said, policy: Policy) -> _Draft:
    intent = said.intent if said.confidence >= policy.intent_threshold else None

    if d.state in (State.CASE_OPEN, State.WITH_AGENT):
        if intent == "case_status":
            return d.do(ShowStatus())
        acknowledge = d.state == State.CASE_OPEN and intent not in SMALL_TALK
        if said.has_attachments:
            d.say(replies.ATTACHMENT_REFUSED)
            kept = " ".join(p for p in (said.text, replies.files_not_kept(said.attachments)) if p)
            return d.do(AddToCase(kept, acknowledge=acknowledge))
        return d.do(AddToCase(said.text, acknowledge=acknowledge))

    if said.has_attachments:  # the words (a caption) go on as the message; the file cannot
        d.say(replies.ATTACHMENT_REFUSED)
        if not said.text:
            return d

    if d.state == State.COMMENTING and d.data.get("case") and said.text:
        d.do(CommentOnRating(int(d.data["case"]), said.text))
        return d.to(State.RESOLVED).say(replies.COMMENT_THANKS)

    if d.state == State.RESOLVED and d.data.get("case"):
        number = int(d.data["case"])
        rating = said.text.strip()
        if rating in {"1", "2", "3", "4", "5"}:
            d.do(RateCase(number, int(rating)))
            return d.to(State.COMMENTING).say(replies.RATING_THANKS, replies.skip_button())
        if intent in SMALL_TALK:  # "thanks!" after a resolution is not a new problem
            return d.say(_SMALL_TALK_REPLIES.get(intent, replies.GOODBYE))
        if said.text:
            return d.to(State.CASE_OPEN).do(ReopenCase(number, said.text))
    if d.state in (State.RESOLVED, State.COMMENTING):
        d.to(State.IDLE)

    if d.state == State.COLLECTING:
        _remember(d, said.text, said.tags)
        return _open_case(
            d, intent=d.data.get("intent") or intent, priority=d.data.get("priority", "normal")
        )

    if said.unsupported_language:
        return d.to(State.IDLE).say(replies.UNSUPPORTED_LANGUAGE, replies.human_button())

    if d.state == State.SUGGESTED:
        if intent == "affirm":
            _answered(d)
            return d.do(_feedback(d, helpful=True)).to(State.IDLE).say(replies.GLAD_IT_HELPED)
        if intent == "deny":
            d.data["misses"] = 1
            d.do(_feedback(d, helpful=False))
            return d.to(State.IDLE).say(replies.NOT_HELPFUL, replies.human_button())
        d.to(State.IDLE)

    match intent:
        case "greet":
            return d.say(replies.GREETING)
        case "thanks":
            return d.say(replies.THANKS)
        case "goodbye":
            return d.say(replies.GOODBYE)
        case "bot_challenge":
            return d.say(replies.BOT_CHALLENGE)
        case "human_handoff":
            names_a_topic = said.hit is not None and said.hit.score >= policy.answer_threshold
            if names_a_topic or said.tags:
                # "my order is late, get me a person": that's the problem
                _remember(d, said.text, said.tags)
            return _handoff(d, intent="human_handoff")
        case "case_status":
            return d.do(ShowStatus())
        case "reset":
            return _reset(d)
        case "complaint_urgent":
            _remember(d, said.text, said.tags)
            return _handoff(d, intent="complaint_urgent", priority="high")

    if intent in ("affirm", "deny"):
        return d.say(replies.HELP)

    _remember(d, said.text, said.tags)
    if said.hit is not None and said.hit.score >= policy.answer_threshold:
        d.data["misses"] = 0
        d.data["suggested"] = said.hit.slug
        d.do(RecordSuggestion(said.text, said.hit.slug, said.hit.score))
        text = replies.answer(said.hit.title, said.hit.snippet, said.hit.reference)
        return d.to(State.SUGGESTED).say(text, replies.answer_buttons(said.hit.slug))

    misses = int(d.data.get("misses", 0)) + 1
    d.data["misses"] = misses
    if misses >= 2:
        return _open_case(d, intent=intent, priority="normal")
    return d.to(State.IDLE).say(replies.REPHRASE)


def _answered(d: _Draft) -> None:
    """The customer's question is settled: a later case should not carry it."""
    d.data["misses"] = 0
    d.data["history"] = []
    d.data.pop("tags", None)


def _feedback(d: _Draft, *, helpful: bool) -> RecordFeedback:
    return RecordFeedback(helpful=helpful, feedback_id=d.data.pop("feedback", None))


def _remember(d: _Draft, text: str, tags: Sequence[str] = ()) -> None:
    history = list(d.data.get("history", []))
    history.append(text)
    d.data["history"] = history[-HISTORY_LIMIT:]
    if tags:
        d.data["tags"] = sorted(set(d.data.get("tags", [])) | set(tags))


def _handoff(d: _Draft, *, intent: str, priority: str = "normal") -> _Draft:
    if d.state in (State.CASE_OPEN, State.WITH_AGENT) and d.data.get("case"):
        return d.say(replies.case_already_open(int(d.data["case"])))
    if not d.data.get("history"):  # we don't know the problem yet: ask only for that
        d.data["intent"] = intent
        d.data["priority"] = priority
        return d.to(State.COLLECTING).say(replies.ASK_DETAILS)
    return _open_case(d, intent=intent, priority=priority)


def _open_case(d: _Draft, *, intent: str | None, priority: str) -> _Draft:
    history = tuple(d.data.get("history", []))
    subject = history[-1] if history else "Help requested"  # what they asked a person about
    suggested = d.data.get("suggested")
    tags = tuple(d.data.get("tags", []))
    d.data = {"misses": 0}
    command = OpenCase(subject, intent, priority, history=history, suggested=suggested, tags=tags)
    return d.to(State.CASE_OPEN).do(command)


def _reset(d: _Draft) -> _Draft:
    case = d.data.get("case")
    if case and d.state in (State.CASE_OPEN, State.WITH_AGENT):
        d.data = {"case": case}
        return d.say(replies.reset_with_open_case(int(case)))
    d.data = {}
    return d.to(State.IDLE).say(replies.RESET_DONE)
