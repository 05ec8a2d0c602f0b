"""What a message asks for besides its topic: a person, or urgency.

The intent model gives one label per message, and a request for a person that also names the
problem ("is there an actual person I can speak to about my refund") is labelled by its topic.
So a request for a person is recognised *beside* the topic: by the handoff intent's share among
the top candidates, or by the words people use to ask for one. The phrases were drawn from the
``human_handoff`` examples in ``nlu/dialog/dialog.yml`` (tests check they recognise those and stay
quiet on every other intent's examples).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

HANDOFF = "human_handoff"
URGENT = "complaint_urgent"
# The intents that say how someone talks, not what the problem is.
META_INTENTS = frozenset(
    {
        "greet",
        "thanks",
        "goodbye",
        "affirm",
        "deny",
        "bot_challenge",
        HANDOFF,
        "case_status",
        "add_info",
        "reset",
        URGENT,
        "out_of_scope",
    }
)

# the handoff intent counts among the top candidates when it has at least this share
HANDOFF_SHARE = 0.3
URGENT_SHARE = 0.3
TOPIC_SHARE = 0.15

_WHO = (
    r"(?:a |an |the |some |your )?(?:real |actual |live |human |actual human |real live )?"
    r"(?:human(?: being)?|person|people|agent|operator|representative|rep|staff|somebody|someone"
    r"|anyone|anybody|support agent|support person|customer service|team member|manager|supervisor)"
)
_PERSON_PATTERNS = (
    rf"\b(?:talk|speak|chat)(?:ing)? (?:to|with) {_WHO}\b",
    rf"\b(?:connect|transfer|put|pass|escalate)(?: me| this| it)?(?: through)? "
    rf"(?:to|with) {_WHO}\b",
    rf"\bget me {_WHO}\b",
    rf"\b{_WHO} (?:i|we) (?:can|could) (?:talk|speak|chat) (?:to|with)\b",
    rf"\b(?:want|need|like) {_WHO}\b",
    r"\b(?:real|actual|live) (?:human|person|agent|people)\b",
    r"\bhuman(?: being)?,? please\b|\bplease,? (?:a )?human\b",
    r"\bsomeone (?:from|on|at) (?:your|the) (?:team|support|company|staff)\b",
    r"\b(?:call|ring|phone) me back\b",
    r"\b(?:can|could|would|will|please)\b[^.?!]{0,40}\b(?:call|ring|phone|contact) me\b",
    r"\bisn'?t a (?:robot|bot)\b|\bnot a (?:robot|bot)\b|\bstop the bot\b",
    r"^\s*(?:agent|operator|human|a human|person|a person)\s*[.!?]*\s*$",
)
PERSON_REQUEST = re.compile("|".join(f"(?:{p})" for p in _PERSON_PATTERNS), re.IGNORECASE)
# "are you a real person?" asks about the bot, not for a person
_ABOUT_THE_BOT = re.compile(
    r"\b(?:are you|am i (?:chatting|talking|speaking) (?:to|with)|is this)\b", re.IGNORECASE
)

_SHOUTED_WORD = re.compile(r"\b[A-Z]{2,}\b")
_ANGER = re.compile(
    r"\b(?:ridiculous|unacceptable|outrageous|disgusting|furious|scam|fraud|lawyer|sue|"
    r"worst|useless|fed up|sick of|third time|again and again|money back|immediately|right now)\b",
    re.IGNORECASE,
)

Ranking = Sequence[tuple[str, float]]


def _share(ranking: Ranking, intent: str) -> float:
    return next((score for name, score in ranking[:3] if name == intent), 0.0)


def wants_person(text: str, ranking: Ranking) -> bool:
    """Does the message ask for a person (whatever else it says)?"""
    if _share(ranking, HANDOFF) >= HANDOFF_SHARE:
        return True
    return PERSON_REQUEST.search(text) is not None and not _ABOUT_THE_BOT.search(text)


# words that ask, greet or fill — what is left of a request for a person once they are gone
# is the problem, if anything
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "me",
        "my",
        "we",
        "you",
        "your",
        "is",
        "are",
        "am",
        "be",
        "can",
        "could",
        "would",
        "will",
        "shall",
        "please",
        "pls",
        "just",
        "want",
        "wanna",
        "need",
        "like",
        "rather",
        "let",
        "get",
        "put",
        "talk",
        "speak",
        "chat",
        "with",
        "to",
        "from",
        "for",
        "of",
        "on",
        "at",
        "in",
        "about",
        "there",
        "here",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "who",
        "isn't",
        "not",
        "real",
        "actual",
        "live",
        "human",
        "person",
        "agent",
        "now",
        "hi",
        "hello",
        "hey",
        "ok",
        "okay",
        "thanks",
        "thank",
        "this",
        "that",
        "it",
        "do",
        "does",
        "help",
        "support",
        "team",
        "staff",
        "again",
        "really",
        "right",
        "away",
        "asap",
        "soon",
        "today",
        "robot",
        "bot",
        "operator",
        "representative",
        "customer",
        "service",
        "manager",
        "supervisor",
        "escalate",
        "transfer",
        "connect",
        "through",
        "contact",
        "i'd",
        "i'm",
        "i'll",
        "we'd",
        "can't",
    ]
)
_WORD = re.compile(r"[a-z][a-z']+")


def names_a_problem(text: str) -> bool:
    """Does a request for a person also say what it is about ("… about my refund")?"""
    rest = PERSON_REQUEST.sub(" ", text.lower())
    return any(w not in _FILLER for w in _WORD.findall(rest))


def sounds_urgent(text: str, ranking: Ranking) -> bool:
    """An urgent complaint: the model leans that way, or the customer shouts in anger."""
    if _share(ranking, URGENT) >= URGENT_SHARE:
        return True
    shouted = len(_SHOUTED_WORD.findall(text)) >= 3
    return shouted and _ANGER.search(text) is not None


def topic_of(ranking: Ranking) -> str | None:
    """The problem the message is about: the best topic intent among the top candidates."""
    return next(
        (name for name, score in ranking[:3] if name not in META_INTENTS and score >= TOPIC_SHARE),
        None,
    )
