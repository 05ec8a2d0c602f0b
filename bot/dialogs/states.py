"""The customer dialog as a pure state machine: ``decide(state, data, signal, policy, now)``.

No I/O here: the engine loads the session, understands the message, calls ``decide`` and then
carries out the returned commands. States::

    idle ──question──► suggested ──"helped"──► idle
      │  └─miss──► idle(misses=1) ──miss──► idle: what the bot covers + "Talk to a person"
      └─"talk to a person" (nothing asked yet) ──► collecting ──details──► case_open
    case_open ──agent claims──► with_agent ──agent resolves──► resolved ──rating──► commenting
    case_open / with_agent: a question with a good answer gets it, and is added to the case
    commenting ──a message (the comment) or Skip, or the prompt expires──► resolved (rated)
    resolved ──a new question──► answered like any question, with an offer to reopen the case
    resolved ──the reopen window passes (the engine checks the case)──► idle

A request for a person is honoured wherever it appears in a message, and the case keeps the
problem's intent (``topic``), not ``human_handoff``. ``reset`` goes back to idle from anywhere
(an open case stays open); a session left alone longer than the stale timeout starts over.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.commands import case_number_in
from bot.config import ANSWER_THRESHOLD
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
HANDOFF = "human_handoff"
URGENT = "complaint_urgent"
# the dialog's own intents: they say how someone asks, not what the problem is
NOT_TOPICS = SMALL_TALK | {HANDOFF, URGENT, "case_status", "reset", "add_info"}
# how long after a rating the next message still counts as a comment on it
COMMENT_WAIT = timedelta(minutes=30)
# "5", "5/5", "4 stars", "10": a message that is only a score
_SCORE = re.compile(r"^\s*(\d+)\s*(?:/\s*\d+|stars?|out of \d+)?\s*[.!]*\s*$", re.IGNORECASE)
# someone asking in words for their data to go: pointed to ``/forget``, which is the request
# (a question like "how do I delete my data in the app?" must not erase anyone)
_ASKS_ERASURE = re.compile(
    r"\b(?:forget (?:about )?me|(?:delete|erase|remove|wipe) (?:all )?(?:of )?my "
    r"(?:personal )?(?:data|information|info|details))\b",
    re.IGNORECASE,
)
_REOPEN = re.compile(r"^\s*(?:/)?reopen(?: (?:it|the case|my case))?\s*[.!]*\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    """The best knowledge-base match for a message, ready to show.

    ``body`` is the matched section (with its steps) cut to fit a message; ``url`` the
    article's page in the help centre when one is configured. ``reference`` ("kb:slug") is for
    agents and logs only, never shown to a customer."""

    slug: str
    title: str
    snippet: str
    reference: str
    score: float
    body: str = ""
    url: str = ""


@dataclass(frozen=True)
class Act:
    """What the message's intent does, as an admin set it (``bot.intents.actions``): ``say``
    a canned response, answer with the ``article`` (the hit), ``handoff`` to a queue, or
    ``route`` (only the queue a case about it goes to)."""

    kind: str
    value: str


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
    wants_person: bool = False  # asks for a person, whatever else it says
    names_a_problem: bool = False  # besides asking for a person, says what about
    urgent: bool = False  # an urgent complaint
    topic: str | None = None  # the problem's intent, even when the top label is another
    attachments: tuple[str, ...] = ()  # names of the files sent with it (never kept)
    action: Act | None = None  # what its intent does (None: the dialog's default)


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
    # what the customer said before where the help desk did not hear it (a Rasa assistant's
    # transcript): a case opened now carries it
    history: tuple[str, ...] = ()


Signal = Said | Clicked | Verb


@dataclass(frozen=True)
class Policy:
    answer_threshold: float = ANSWER_THRESHOLD
    # 0: act on the classifier's own decision (it already rejects what is out of scope);
    # a team may ask for a stricter gate in helpdesk.yml
    intent_threshold: float = 0.0


@dataclass(frozen=True)
class CommentPrompt:
    """ "Tell us more about your rating": only the next message within ``until`` answers it, so
    the prompt cannot survive into a later conversation."""

    case: int
    until: datetime

    def live(self, now: datetime | None) -> bool:
        return now is None or now < self.until

    def to_data(self) -> dict[str, Any]:
        return {"case": self.case, "until": self.until.isoformat()}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CommentPrompt | None:
        raw = data.get("prompt")
        if not isinstance(raw, Mapping) or "case" not in raw or "until" not in raw:
            return None
        return cls(int(raw["case"]), datetime.fromisoformat(str(raw["until"])))


@dataclass(frozen=True)
class ReopenOffer:
    """After a resolution the customer asked something new: they may reopen ``case`` with that
    message (``text``). Held until they accept, or the engine finds the window closed."""

    case: int
    text: str

    def to_data(self) -> dict[str, Any]:
        return {"case": self.case, "text": self.text}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ReopenOffer | None:
        raw = data.get("reopen")
        if not isinstance(raw, Mapping) or "case" not in raw:
            return None
        return cls(int(raw["case"]), str(raw.get("text", "")))


# --- commands for the engine -----------------------------------------------------------------


@dataclass(frozen=True)
class OpenCase:
    subject: str
    intent: str | None
    priority: str = "normal"
    history: tuple[str, ...] = ()  # the customer's messages so far, oldest first
    suggested: str | None = None  # the article the bot last suggested
    tags: tuple[str, ...] = ()
    queue: str | None = None  # set by an intent's action; else the routing rules decide


@dataclass(frozen=True)
class AddToCase:
    text: str
    acknowledge: bool
    answered: bool = False  # the bot answered it too: say it went to the case as well


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
class RecordMiss:
    """A question the bot could not act on with confidence (no article above the floor, no
    topic intent): kept for the knowledge-gap review and intent-example suggestions."""

    text: str
    intent: str | None
    confidence: float
    slug: str | None = None  # the best article, below the floor
    score: float | None = None


@dataclass(frozen=True)
class RecordFeedback:
    helpful: bool
    feedback_id: int | None = None  # the row RecordSuggestion created


@dataclass(frozen=True)
class RateCase:
    """A rating of 1–5. The engine accepts it once, for a resolved case of this customer's,
    and says so (and, with ``invite_comment``, asks for a comment)."""

    case_number: int
    rating: int
    invite_comment: bool = False


@dataclass(frozen=True)
class CommentOnRating:
    case_number: int
    text: str


@dataclass(frozen=True)
class ReopenCase:
    """The customer asked to reopen their resolved case (button or "reopen"): reopen it with
    this message, if it is still inside its reopen window."""

    case_number: int
    text: str


@dataclass(frozen=True)
class ShowArticle:
    """Send the whole article (split to the platform's limits)."""

    slug: str


@dataclass(frozen=True)
class ShowLinkCode:
    pass


@dataclass(frozen=True)
class LinkIdentity:
    code: str


@dataclass(frozen=True)
class RequestErasure:
    """The customer asked for their data to be erased: recorded, and put to an admin."""


@dataclass(frozen=True)
class AnswerLink:
    """Yes or No to "link your other account?" (``request``: the link request's id). The
    engine checks it is this person's own open request; anything else does nothing."""

    request: int
    yes: bool


Command = (
    OpenCase
    | AddToCase
    | ShowStatus
    | CloseCase
    | RecordSuggestion
    | RecordMiss
    | RecordFeedback
    | RateCase
    | CommentOnRating
    | ReopenCase
    | ShowArticle
    | ShowLinkCode
    | LinkIdentity
    | RequestErasure
    | AnswerLink
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


def decide(
    state: State,
    data: Mapping[str, Any],
    signal: Signal,
    policy: Policy,
    now: datetime | None = None,
) -> Decision:
    """What to say and do next. ``data`` holds misses, history (the customer's questions so far),
    the problem's intent (``topic``), the suggested article, the case number, the comment prompt
    and an offer to reopen. ``now`` expires the comment prompt."""
    draft = _Draft(state, dict(data))
    _expire_prompt(draft, now)
    if isinstance(signal, Verb):
        return _on_verb(draft, signal).done()
    if isinstance(signal, Clicked):
        return _on_click(draft, signal).done()
    return _on_said(draft, signal, policy).done()


def _expire_prompt(d: _Draft, now: datetime | None) -> None:
    if d.state != State.COMMENTING:
        return
    prompt = CommentPrompt.from_data(d.data)
    if prompt is None or not prompt.live(now):
        d.data.pop("prompt", None)
        d.data["rated"] = True
        d.to(State.RESOLVED)


def _on_verb(d: _Draft, verb: Verb) -> _Draft:
    match verb.verb:
        case "status":
            return d.do(ShowStatus())
        case "close":
            return d.do(CloseCase(verb.case_number or d.data.get("case")))
        case "reset":
            return _reset(d)
        case "human":
            if verb.history and d.state not in (State.CASE_OPEN, State.WITH_AGENT):
                d.data["history"] = list(verb.history)[-HISTORY_LIMIT:]
            return _handoff(d)
        case "start":
            return d.say(replies.GREETING)
        case "link":  # a code of digits only parses as a case number: it is still the code
            code = verb.arg or (str(verb.case_number) if verb.case_number is not None else "")
            return d.do(LinkIdentity(code) if code else ShowLinkCode())
        case "forget":
            return d.do(RequestErasure())
        case _:
            return d.say(replies.HELP)


def _on_click(d: _Draft, click: Clicked) -> _Draft:
    """Buttons can be old (pressed again, or from an earlier message): every one is checked
    against the current state, and one that no longer applies does nothing."""
    match click.verb:
        case "helped":
            suggested = str(d.data.get("suggested") or "")[:50]
            if d.state != State.SUGGESTED or click.arg != suggested:
                return d  # already answered, or a case has taken over
            d.do(_feedback(d, helpful=True))
            _answered(d)
            return d.to(State.IDLE).say(replies.GLAD_IT_HELPED)
        case "human":
            if d.state == State.SUGGESTED:
                d.do(_feedback(d, helpful=False))
            return _handoff(d)
        case "rate" if _names_case(click.case) and click.arg in {"1", "2", "3", "4", "5"}:
            number = int(click.case)
            offer = ReopenOffer.from_data(d.data)
            just_resolved = number in (d.data.get("case"), offer and offer.case)
            if not just_resolved or d.state in (State.CASE_OPEN, State.WITH_AGENT):
                return d.say(replies.cannot_rate(number))  # an older case's buttons
            invite = d.state == State.RESOLVED
            return d.do(RateCase(number, int(click.arg), invite_comment=invite))
        case "skip" if d.state == State.COMMENTING:
            d.data.pop("prompt", None)
            d.data["rated"] = True
            return d.to(State.RESOLVED).say(replies.COMMENT_SKIPPED)
        case "reopen" if _names_case(click.case):
            if d.state in (State.CASE_OPEN, State.WITH_AGENT, State.COLLECTING):
                return d
            return _reopen(d, int(click.case))
        case "article" if click.arg:
            return d.do(ShowArticle(click.arg))
        case "link" if _names_case(click.case) and click.arg in ("yes", "no"):
            return d.do(AnswerLink(int(click.case), yes=click.arg == "yes"))
        case "rate" | "skip" | "reopen" | "link":
            return d  # an outdated button
        case _:
            return d.say(replies.HELP)


def _on_said(d: _Draft, said: Said, policy: Policy) -> _Draft:
    intent = said.intent if said.confidence >= policy.intent_threshold else None
    answerable = said.hit is not None and said.hit.score >= policy.answer_threshold

    if d.state in (State.CASE_OPEN, State.WITH_AGENT):
        return _while_a_case_is_open(d, said, intent, answerable)

    if said.has_attachments:  # the words (a caption) go on as the message; the file cannot
        d.say(replies.ATTACHMENT_REFUSED)
        if not said.text:
            return d

    if d.state == State.COMMENTING and d.data.get("case") and _SCORE.match(said.text):
        return d.say(replies.already_rated(int(d.data["case"])))  # a score is not a comment
    if d.state == State.COMMENTING and d.data.get("case") and said.text:
        d.do(CommentOnRating(int(d.data["case"]), said.text))
        d.data.pop("prompt", None)
        d.data["rated"] = True
        return d.to(State.RESOLVED).say(replies.COMMENT_THANKS)

    if _ASKS_ERASURE.search(said.text):
        d.say(replies.HOW_TO_BE_FORGOTTEN)

    offer = ReopenOffer.from_data(d.data)
    if offer and _REOPEN.match(said.text):
        return _reopen(d, offer.case)

    if d.state == State.RESOLVED and d.data.get("case"):
        number = int(d.data["case"])
        score = _SCORE.match(said.text)
        if score:  # never a new problem, never a reopen
            return _rating_typed(d, number, int(score.group(1)))
        if intent in SMALL_TALK:  # "thanks!" after a resolution is not a new problem
            return d.say(_SMALL_TALK_REPLIES.get(intent, replies.GOODBYE))
        # a new message: answered like any other, and the customer chooses whether it
        # belongs to the resolved case
        d.data = {"reopen": ReopenOffer(number, said.text).to_data()}
        d.to(State.IDLE)
        _on_question(d, said, intent, answerable)
        if d.state in (State.IDLE, State.SUGGESTED):
            return d.say(replies.offer_reopen(number), replies.reopen_button(number))
        d.data.pop("reopen", None)
        return d
    if d.state in (State.RESOLVED, State.COMMENTING):
        d.to(State.IDLE)
        d.data = {}
    return _on_question(d, said, intent, answerable)


def _while_a_case_is_open(d: _Draft, said: Said, intent: str | None, answerable: bool) -> _Draft:
    """People keep asking while they wait: a question the knowledge base answers gets that
    answer at once, and everything goes to the case for the agent."""
    if intent == "case_status":
        return d.do(ShowStatus())
    text = said.text
    if said.has_attachments:  # the file cannot be kept: the case says so beside the words
        d.say(replies.ATTACHMENT_REFUSED)
        text = " ".join(p for p in (said.text, replies.files_not_kept(said.attachments)) if p)
    small_talk = intent in SMALL_TALK
    if answerable and not small_talk and not said.wants_person and said.hit is not None:
        d.say(*_answer(said.hit, helped_button=False))
        return d.do(AddToCase(text, acknowledge=True, answered=True))
    acknowledge = d.state == State.CASE_OPEN and not small_talk
    return d.do(AddToCase(text, acknowledge=acknowledge))


def _on_question(d: _Draft, said: Said, intent: str | None, answerable: bool) -> _Draft:
    if d.state == State.COLLECTING:
        _remember(d, said, intent)
        _note_miss(d, said, intent, answerable)
        return _open_case(d, intent=_case_intent(d), priority=d.data.get("priority", "normal"))

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

    if said.urgent or intent == URGENT:
        _remember(d, said, intent)
        return _handoff(d, priority="high", fallback=URGENT)
    if said.wants_person or intent == HANDOFF:
        if answerable or said.tags or said.topic or said.names_a_problem:
            # "my order is late, get me a person": that's the problem
            _remember(d, said, intent)
            _note_miss(d, said, intent, answerable)
        return _handoff(d)

    match intent:
        case "greet":
            return d.say(replies.GREETING)
        case "thanks":
            return d.say(replies.THANKS)
        case "goodbye":
            return d.say(replies.GOODBYE)
        case "bot_challenge":
            return d.say(replies.BOT_CHALLENGE)
        case "case_status":
            return d.do(ShowStatus())
        case "reset":
            return _reset(d)

    if intent in ("affirm", "deny"):
        return d.say(replies.HELP)

    _remember(d, said, intent)
    action = said.action if intent is not None else None
    if action is not None:
        if action.kind == "say":
            d.data["misses"] = 0
            return d.to(State.IDLE).say(action.value)
        if action.kind in ("handoff", "route"):
            d.data["queue"] = action.value
        if action.kind == "handoff":
            return _handoff(d)
        if action.kind == "article" and said.hit is not None and said.hit.slug == action.value:
            answerable = True  # the intent names its article: no score gate
    if answerable and said.hit is not None:
        d.data["misses"] = 0
        d.data["suggested"] = said.hit.slug
        d.do(RecordSuggestion(said.text, said.hit.slug, said.hit.score))
        return d.to(State.SUGGESTED).say(*_answer(said.hit, helped_button=True))

    _note_miss(d, said, intent, answerable, topic_covers=False)
    misses = int(d.data.get("misses", 0)) + 1
    d.data["misses"] = misses
    d.to(State.IDLE)
    if misses < 2:
        return d.say(replies.REPHRASE)
    # Never open a case behind the customer's back: say what the bot covers, offer a person.
    off_topic = intent is None  # the intent acted on decides the wording too (no second gate)
    return d.say(replies.OFF_TOPIC if off_topic else replies.NO_ANSWER, replies.human_button())


def _note_miss(
    d: _Draft, said: Said, intent: str | None, answerable: bool, *, topic_covers: bool = True
) -> None:
    """Keep a question the bot could not act on with confidence (a knowledge gap): no article
    above the floor and — on the way to a case, where a named topic routes it well enough
    (``topic_covers``) — no topic intent either."""
    topic = said.topic or intent
    if answerable or not said.text or (topic_covers and topic and topic not in NOT_TOPICS):
        return
    hit = said.hit
    d.do(
        RecordMiss(
            said.text,
            intent,
            said.confidence,
            hit.slug if hit else None,
            hit.score if hit else None,
        )
    )


def _answer(hit: Hit, *, helped_button: bool) -> tuple[str, tuple[Button, ...]]:
    text = replies.answer(hit.title, hit.body or hit.snippet, hit.url, ask=helped_button)
    buttons: tuple[Button, ...] = replies.answer_buttons(hit.slug) if helped_button else ()
    if not hit.url:
        buttons += replies.whole_article_button(hit.slug)
    return text, buttons


def _rating_typed(d: _Draft, number: int, score: int) -> _Draft:
    if d.data.get("rated"):
        return d.say(replies.already_rated(number))
    if not 1 <= score <= 5:
        return d.say(replies.RATING_RANGE)
    return d.do(RateCase(number, score, invite_comment=True))


def _reopen(d: _Draft, number: int) -> _Draft:
    offer = ReopenOffer.from_data(d.data)
    text = offer.text if offer and offer.case == number else ""
    d.data.pop("reopen", None)
    return d.do(ReopenCase(number, text))


def _answered(d: _Draft) -> None:
    """The customer's question is settled: a later case should not carry it (nor the article
    that settled it, which agents would read as what the bot suggested for the new problem)."""
    d.data["misses"] = 0
    d.data["history"] = []
    d.data.pop("suggested", None)
    d.data.pop("tags", None)
    d.data.pop("topic", None)
    d.data.pop("queue", None)


def _feedback(d: _Draft, *, helpful: bool) -> RecordFeedback:
    return RecordFeedback(helpful=helpful, feedback_id=d.data.pop("feedback", None))


def _remember(d: _Draft, said: Said, intent: str | None) -> None:
    history = list(d.data.get("history", []))
    history.append(said.text)
    d.data["history"] = history[-HISTORY_LIMIT:]
    if said.tags:
        d.data["tags"] = sorted(set(d.data.get("tags", [])) | set(said.tags))
    # ``intent``: the one the dialog acts on (the classifier's decision), not a second gate
    topic = said.topic or intent
    if topic and topic not in NOT_TOPICS:
        d.data["topic"] = topic  # the problem; queue rules route on it


def _case_intent(d: _Draft, fallback: str = HANDOFF) -> str:
    """The problem's intent when the customer named one, else how they asked."""
    return str(d.data.get("topic") or d.data.get("intent") or fallback)


def _handoff(d: _Draft, *, priority: str = "normal", fallback: str = HANDOFF) -> _Draft:
    if d.state in (State.CASE_OPEN, State.WITH_AGENT) and d.data.get("case"):
        return d.say(replies.case_already_open(int(d.data["case"])))
    if d.state == State.COLLECTING:
        return d.say(replies.ASK_DETAILS)
    if not d.data.get("history"):  # we don't know the problem yet: ask only for that
        d.data["intent"] = fallback
        d.data["priority"] = priority
        return d.to(State.COLLECTING).say(replies.ASK_DETAILS)
    return _open_case(d, intent=_case_intent(d, fallback), priority=priority)


def _open_case(d: _Draft, *, intent: str | None, priority: str) -> _Draft:
    history = tuple(d.data.get("history", []))
    subject = history[-1] if history else "Help requested"  # what they asked a person about
    suggested = d.data.get("suggested")
    tags = tuple(d.data.get("tags", []))
    queue = d.data.get("queue")
    d.data = {"misses": 0}
    command = OpenCase(
        subject, intent, priority, history=history, suggested=suggested, tags=tags, queue=queue
    )
    return d.to(State.CASE_OPEN).do(command)


def _names_case(text: str) -> bool:
    """A button's case field that is a case number (not "²", not 200 digits: outdated or forged
    buttons are ignored, like any other outdated button)."""
    return case_number_in(text) is not None


def _reset(d: _Draft) -> _Draft:
    case = d.data.get("case")
    if case and d.state in (State.CASE_OPEN, State.WITH_AGENT):
        d.data = {"case": case}
        return d.say(replies.reset_with_open_case(int(case)))
    d.data = {}
    return d.to(State.IDLE).say(replies.RESET_DONE)
