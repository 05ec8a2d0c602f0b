"""Every word the bot says to customers and agents, in one place: easy to review and to
translate. Functions return plain text; adapters escape it for their markup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.messages import Button, button_payload

GREETING = (
    "Hi! I'm the help desk bot. Ask me anything about your account, orders, billing or "
    "devices, and I'll find the answer — or get you a person."
)
HELP = (
    "Just type your question. Commands: /status (your cases), /close (close your case), "
    "/reset (start over), /human (talk to a person)."
)
THANKS = "You're welcome! Anything else I can help with?"
GOODBYE = "Goodbye! Write any time if you need help again."
BOT_CHALLENGE = (
    "I'm the help desk's bot. I can answer most questions right away, and I can get you a "
    "person whenever you like — just say so."
)
REPHRASE = (
    "I'm not sure I understood. Could you say it another way, with a few more details "
    "(what you were doing, what you expected, what happened)?"
)
ASK_DETAILS = "I'll get a person on this. In a sentence or two, what do you need help with?"
GLAD_IT_HELPED = "Glad that helped! Anything else?"
NOT_HELPFUL = "Sorry that didn't help. Tell me a bit more, or choose “Talk to a person”."
RESET_DONE = "Okay, let's start over. What can I help you with?"
UNSUPPORTED_LANGUAGE = (
    "Sorry, I can only answer in English for now. If you'd like, a person from our team "
    "can help you."
)
UNKNOWN_ERROR = "Sorry, something went wrong on our side. Please try again in a moment."
EMPTY_MESSAGE = "I didn't get any text there. What can I help you with?"
NO_CASES = "You have no cases with us."
NO_OPEN_CASE = "You have no open case to close."
ATTACHMENT_REFUSED = (
    "I can't take attachments here. Please describe the problem in words — an agent can ask "
    "for files later if needed."
)
RATING_THANKS = "Thank you for your rating!"
NOT_AN_AGENT = "Sorry, only agents can do that."
NOT_AGENT_COMMAND = (
    "That isn't an agent command. Agent commands: claim, release, reply, note, resolve, "
    "cases, case."
)


def too_long(limit: int) -> str:
    return f"That message is too long for me ({limit} characters at most). Could you shorten it?"


def answer(title: str, snippet: str, reference: str) -> str:
    return f"{title}\n\n{snippet}\n\n(From our help center: {reference})\n\nDid this help?"


def answer_buttons(slug: str) -> tuple[Button, ...]:
    return (
        Button("That helped", button_payload("helped", "", slug[:50]), style="primary"),
        Button("Talk to a person", button_payload("human")),
    )


def human_button() -> tuple[Button, ...]:
    return (Button("Talk to a person", button_payload("human")),)


def rating_buttons(case_number: int) -> tuple[Button, ...]:
    return tuple(
        Button(label, button_payload("rate", case_number, str(score)))
        for score, label in ((1, "1 ☹"), (2, "2"), (3, "3"), (4, "4"), (5, "5 ☺"))
    )


def case_opened(number: int) -> str:
    return (
        f"I've opened case #{number} for you. A person from our team will reply right here. "
        "Anything you write now is added to the case."
    )


def case_already_open(number: int) -> str:
    return f"Your case #{number} is open and our team has it. Anything you write is added to it."


def added_to_case(number: int) -> str:
    return f"Added to your case #{number}."


def reset_with_open_case(number: int) -> str:
    return f"Okay, starting over. Your case #{number} is still open — use /close if it's solved."


def case_list(cases: Sequence[tuple[int, str, str, datetime]]) -> str:
    lines = ["Your cases:"]
    for number, subject, status, created in cases:
        lines.append(f"#{number} — {subject} — {status} (opened {created:%Y-%m-%d})")
    return "\n".join(lines)


def case_closed(number: int) -> str:
    return f"Case #{number} is closed. Thanks for letting us know!"


def agent_joined(agent_name: str, number: int) -> str:
    return f"{agent_name} from our team has joined and is looking at case #{number}."


def agent_says(agent_name: str, text: str) -> str:
    return f"{agent_name} (Support): {text}"


def case_resolved(number: int) -> str:
    return (
        f"Your case #{number} has been resolved. How would you rate our help, from 1 to 5? "
        "If something is still wrong, just write here and the case reopens."
    )


def case_released_to_customer(number: int) -> str:
    return f"Your case #{number} is back in the queue; the next free person will pick it up."


# --- agent channel -------------------------------------------------------------------------


def escalation_post(
    number: int,
    customer_name: str,
    platform: str,
    priority: str,
    subject: str,
    customer_words: str,
    suggested: str,
    status_line: str,
) -> str:
    lines = [
        f"New case #{number} — {subject}",
        f"Customer: {customer_name or 'unknown'} ({platform}) · Priority: {priority}",
        f"Status: {status_line}",
    ]
    if customer_words:
        lines.append(f"Customer wrote: {customer_words}")
    if suggested:
        lines.append(f"Bot suggested: {suggested}")
    lines.append(
        f"Commands: claim {number} · reply {number} <text> · note {number} <text> · "
        f"resolve {number}"
    )
    return "\n".join(lines)


def escalation_buttons(number: int) -> tuple[Button, ...]:
    return (
        Button("Claim", button_payload("claim", number), style="primary"),
        Button("Release", button_payload("release", number)),
        Button("Reply", button_payload("reply", number), opens_form=True),
        Button("Resolve", button_payload("resolve", number), style="danger"),
    )


def customer_wrote(number: int, customer_name: str, text: str) -> str:
    return f"#{number} {customer_name or 'Customer'}: {text}"


def claimed_by(number: int, agent_name: str) -> str:
    return f"#{number} claimed by {agent_name}."


def claim_conflict(number: int, holder: str) -> str:
    return f"#{number} is already claimed by {holder}."


def released_by(number: int, agent_name: str) -> str:
    return f"#{number} released by {agent_name}; it is unclaimed again."


def reply_sent(number: int) -> str:
    return f"#{number} reply sent to the customer."


def note_saved(number: int) -> str:
    return f"#{number} internal note saved (not sent to the customer)."


def resolved_by(number: int, agent_name: str) -> str:
    return f"#{number} resolved by {agent_name}."


def customer_closed(number: int) -> str:
    return f"#{number} was closed by the customer."


def customer_rated(number: int, rating: int) -> str:
    return f"#{number} rated {rating}/5 by the customer."


def agent_case_list(rows: Sequence[tuple[int, str, str, str | None]]) -> str:
    if not rows:
        return "No cases."
    lines = []
    for number, subject, status, assignee in rows:
        who = f" · {assignee}" if assignee else ""
        lines.append(f"#{number} [{status}{who}] {subject}")
    return "\n".join(lines)
