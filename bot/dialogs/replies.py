"""Every word the bot says to customers and agents, in one place: easy to review and to
translate. Functions return plain text; adapters escape it for their markup. A command the bot
suggests is written ``hint(verb)``: the outbox renders it in the form that works on the
platform it goes to (``/status`` in the terminal and Telegram, ``/helpdesk status`` in Slack).

These are the defaults: a business names itself and what the bot covers in helpdesk.yml
(``business``) and rewords any reply by key in ``<data dir>/replies.yml`` (``bot.dialogs.wording``
puts that in place when the desk starts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.commands import hint
from bot.messages import BUTTON_PAYLOAD_MAX_BYTES, Button, button_payload

GREETING = (
    "Hi! I'm the help desk bot. Ask me anything, and I'll find the answer — or get you a person."
)
# with helpdesk.yml's business: its name, and " about <what the bot covers>"
GREETING_FOR_BUSINESS = (
    "Hi! I'm the {business} help desk bot. Ask me anything{about}, and I'll find the answer — "
    "or get you a person."
)
HELP = (
    f"Just type your question. Commands: {hint('status')} (your cases), {hint('close')} (close "
    f"your case), {hint('reset')} (start over), {hint('human')} (talk to a person), "
    f"{hint('link')} (use your history on another app), {hint('forget')} (erase your data)."
)
# `helpdesk chat` plays both sides, so its /help goes on with the agent's part
TERMINAL_AGENT_HELP = """\
As the agent, start a line with /agent:
  /agent cases [unclaimed|mine]   the queue          /agent case N            one case in full
  /agent claim N · release N      take / hand back   /agent reply N <text>    answer the customer
  /agent note N <text>            internal note      /agent pending N         wait for the customer
  /agent priority N <level>       low…urgent         /agent transfer N <queue or @agent>
  /agent resolve N                solve it           /agent macro list · macro N <name>
  /agent stats                    manager figures    /quit                    leave the chat"""
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
OFF_TOPIC = (
    "I can only help with questions our help center covers. Ask me about one of those — or "
    "choose “Talk to a person”."
)
# with helpdesk.yml's business: "<name>: <what the bot covers>"
OFF_TOPIC_FOR_BUSINESS = (
    "I can only help with {scope}. Ask me about one of those — or choose “Talk to a person”."
)
NO_ANSWER = (
    "I couldn't find an answer to that in our help center. Tell me a bit more, or choose "
    "“Talk to a person” and I'll pass everything you've written to our team."
)
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
    "I can't take attachments here: I can't pass files on yet, so yours was not kept. Please "
    "describe it in words or paste the text — any words you sent with it were kept."
)


def files_not_kept(names: tuple[str, ...]) -> str:
    """Recorded in the case where a file was received: nobody should look for it later."""
    return f"[file not kept: {', '.join(names)}]"


def files_not_kept_for_agents(names: tuple[str, ...]) -> str:
    return (
        f"The file {', '.join(names)} was not kept and not passed on: files aren't supported "
        "yet. Paste the text, or describe what it shows."
    )


RATING_THANKS = (
    "Thank you for your rating! If you'd like to tell us more, just write it here — or press Skip."
)
RATING_THANKS_SHORT = "Thank you for your rating!"
COMMENT_THANKS = "Thank you — your comment goes straight to the team."
RATING_RANGE = "Ratings go from 1 (poor) to 5 (great) — which number fits?"
COMMENT_SKIPPED = "No problem. Write any time if you need help again."
NOT_AN_AGENT = "Sorry, only agents can do that."
NOT_AN_ADMIN_FOR_MACROS = "Sorry, only admins can change macros."
NOT_AGENT_COMMAND = (
    "That isn't an agent command. Agent commands: claim, release, reply, note, pending, "
    "resolve, transfer, priority, macro, cases, case."
)
CASES_USAGE = (
    f"Try '{hint('cases')}', '{hint('cases')} unclaimed', '{hint('cases')} mine' or "
    f"'{hint('cases')} customer <name or id>'."
)
MACRO_USAGE = (
    f"Macros: '{hint('macro')} list', '{hint('macro')} show NAME', '{hint('macro')} N NAME' "
    f"(sends it to case N; in a case thread just '{hint('macro')} NAME'); admins: "
    f"'{hint('macro')} set NAME text…', '{hint('macro')} delete NAME'."
)
NO_MACROS = (
    f"No macros yet. An admin can add one: '{hint('macro')} set greeting Hi {{customer_name}}!'."
)
LINK_UNKNOWN = "I don't know that code. Check it, or type /link on your other app for a new one."
LINK_EXPIRED = "That code has expired. Type /link on your other app for a new one."
LINK_USED = "That code was already used. Type /link on your other app for a new one."
LINK_SAME = "That code is from this same account — type it on your other app instead."
LINK_TOO_MANY = "That's a lot of codes in a short time. Please wait ten minutes and try again."
LINK_PENDING = (
    "That code is waiting for a yes on your other app, where you asked for it. Answer there."
)
LINK_DECLINED_HERE = "Okay, I didn't link that account. Nothing has changed."
LINK_DECLINED_THERE = (
    "The link wasn't confirmed on the other app, so nothing has changed. If it was you, "
    f"type {hint('link')} there for a new code."
)
LINK_EXPIRED_THERE = (
    "The link wasn't confirmed on the other app in time, so nothing has changed. Type "
    f"{hint('link')} there for a new code."
)
PLATFORM_NAMES = {"slack": "Slack", "discord": "Discord", "telegram": "Telegram"}

# Erasing a customer's data: asked for in chat with /forget, confirmed by an admin
HOW_TO_BE_FORGOTTEN = (
    f"If you'd like us to erase everything we hold about you, type {hint('forget')}. "
    "An administrator confirms it, and I'll tell you when it's done."
)
ERASURE_REQUESTED = (
    "Got it: you've asked us to erase your data (your name, messages and cases). An "
    "administrator will confirm it, and I'll tell you here when it's done."
)
ERASURE_ALREADY_REQUESTED = (
    "You've already asked us to erase your data; an administrator will confirm it soon."
)
ERASURE_DONE = (
    "Your data has been erased: we no longer hold your name, your messages or your cases' "
    "texts. If you write again, we'll start afresh."
)
NOT_AN_ADMIN = "Sorry, only administrators can do that."
ERASURE_BUTTON = "Erase their data"


def erasure_requested(request: int, customer: int, platform: str, cases: int) -> str:
    """For the agents' channel: no name, no text — only what an admin needs to decide."""
    held = f"{cases} case{'s' if cases != 1 else ''}"
    return (
        f"Erasure request {request}: customer {customer} ({platform}, {held}) asks for their "
        f"data to be erased. An admin confirms with the button or '{hint('erase')} {request}'; "
        f"'helpdesk customers export {customer}' shows what is held."
    )


def erased(request: int, customer: int, counts: dict[str, int]) -> str:
    touched = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n)
    touched = touched or "nothing held"
    return f"Erasure request {request} done: customer {customer} erased ({touched})."


def no_erasure_request(number: int) -> str:
    return f"There is no open erasure request {number}."


ERASE_USAGE = f"Which request? Try '{hint('erase')} 3' (the number in the request)."


def too_long(limit: int) -> str:
    return f"That message is too long for me ({limit} characters at most). Could you shorten it?"


def answer(title: str, body: str, url: str = "", *, ask: bool = True) -> str:
    """An answer from the help center: the part of the article that matched (with its steps),
    a link to the whole article when the help center is online, and (``ask``) "Did this help?"."""
    more = f"\n\nThe full article: {url}" if url else ""
    question = "\n\nDid this help?" if ask else ""
    return f"{title}\n\n{body}{more}{question}"


def answer_buttons(slug: str) -> tuple[Button, ...]:
    return (
        Button("That helped", button_payload("helped", "", slug[:50]), style="primary"),
        Button("Talk to a person", button_payload("human")),
    )


def whole_article_button(slug: str) -> tuple[Button, ...]:
    return (Button("Show the whole article", button_payload("article", "", slug[:50])),)


ARTICLE_GONE = "Sorry, that article is no longer in our help center. What can I help you with?"


def human_button() -> tuple[Button, ...]:
    return (Button("Talk to a person", button_payload("human")),)


def rating_buttons(case_number: int) -> tuple[Button, ...]:
    return tuple(
        Button(label, button_payload("rate", case_number, str(score)))
        for score, label in ((1, "1 ☹"), (2, "2"), (3, "3"), (4, "4"), (5, "5 ☺"))
    )


def case_opened(number: int, position: int = 1) -> str:
    place = (
        "You're next in the queue." if position <= 1 else f"You're number {position} in the queue."
    )
    return (
        f"I've opened case #{number} for you. {place} A person from our team will reply right "
        "here. Anything you write now is added to the case."
    )


def case_already_open(number: int) -> str:
    return f"Your case #{number} is open and our team has it. Anything you write is added to it."


def added_to_case(number: int) -> str:
    return f"Added to your case #{number}."


def also_added_to_case(number: int) -> str:
    return f"I've also added your message to case #{number}, so our team sees it."


def reset_with_open_case(number: int) -> str:
    return (
        f"Okay, starting over. Your case #{number} is still open — use {hint('close')} if it's "
        "solved."
    )


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
        "If something is still wrong, just write here — you can reopen the case."
    )


def case_resolved_rated(number: int, rating: int) -> str:
    """The resolution message once rated: its buttons are gone, the rating stays on record."""
    return f"Your case #{number} has been resolved. You rated our help {rating} out of 5."


def already_rated(number: int) -> str:
    # a refused rating is not thanked: this press changed nothing
    return (
        f"Case #{number} already has your rating; it stays as it was. "
        "Write here if you need more help."
    )


def cannot_rate(number: int) -> str:
    return f"Case #{number} can't be rated now — ratings are for resolved cases."


def offer_reopen(number: int) -> str:
    return (
        f"If this is about your resolved case #{number}, press “Reopen case #{number}” "
        "(or reply REOPEN) and it goes back to our team."
    )


def cannot_reopen(number: int) -> str:
    return f"Case #{number} can't be reopened any more. Tell me what you need and I'll help."


def reopen_button(number: int) -> tuple[Button, ...]:
    return (Button(f"Reopen case #{number}", button_payload("reopen", number)),)


def case_released_to_customer(number: int) -> str:
    return f"Your case #{number} is back in the queue; the next free person will pick it up."


def case_pending_to_customer(number: int) -> str:
    return f"Your case #{number} is waiting for your answer — just write here when you can."


def transferred_to_agent_for_customer(number: int, agent_name: str) -> str:
    return f"Your case #{number} has been passed to {agent_name}, who will continue with you."


def transferred_to_queue_for_customer(number: int) -> str:
    return (
        f"Your case #{number} has been passed to the team best placed to help; "
        "someone there will pick it up shortly."
    )


def case_reopened_for_customer(number: int, agent_name: str | None) -> str:
    who = agent_name or "the team"
    return f"I've reopened your case #{number} and passed your message on; {who} will reply here."


def case_auto_closed(number: int) -> str:
    return f"Your case #{number} is now closed. Write any time if you need help again."


def link_code(code: str, minutes: int) -> str:
    return (
        f"Your link code is {code}. On your other app, send the help desk /link {code} within "
        f"{minutes} minutes, and your cases and history there will be one."
    )


def linked(name: str) -> str:
    who = f", {name}" if name else ""
    return f"Linked{who}! Your cases and history from your other app are here now."


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def link_asked(minutes: int) -> str:
    return (
        "One more step: on the app where you asked for this code, I've asked whether to link "
        f"this account. Answer Yes there within {minutes} minutes."
    )


def link_question(platform: str, name: str, minutes: int) -> str:
    """Asked where the code was shown, after someone typed it elsewhere; ``name`` is theirs
    (mention-proofed by the caller)."""
    who = f" “{name}”" if name else ""
    return (
        f"Your link code was just typed on {platform_name(platform)}, by the account{who}. "
        f"Link that account to this one, so its cases and history join yours? Only say yes "
        f"if that was you. (Press Yes or No, or reply yes or no, within {minutes} minutes.)"
    )


def link_question_buttons(request_id: int) -> tuple[Button, ...]:
    return (
        Button("Yes", button_payload("link", request_id, "yes")),
        Button("No", button_payload("link", request_id, "no")),
    )


def link_question_settled(platform: str, name: str, outcome: str) -> str:
    """The question once answered or expired, its buttons gone."""
    who = f" “{name}”" if name else ""
    done = {"linked": "Linked.", "declined": "Not linked.", "expired": "Expired; not linked."}
    return f"Link the {platform_name(platform)} account{who} to this one? {done[outcome]}"


def linked_here(platform: str, name: str) -> str:
    who = f" “{name}”" if name else ""
    return (
        f"Linked! Your {platform_name(platform)} account{who} is part of this one now, with "
        "its cases and history."
    )


def link_expired_here(platform: str) -> str:
    return (
        f"The request to link your {platform_name(platform)} account has expired, so nothing "
        "has changed."
    )


def skip_button() -> tuple[Button, ...]:
    return (Button("Skip", button_payload("skip")),)


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
    *,
    queue: str = "",
    first_response_due: datetime | None = None,
    reopened: int = 0,
    tags: Sequence[str] = (),
) -> str:
    lines = [
        f"{'New case' if status_line == 'unclaimed' else 'Case'} #{number} — {subject}",
        f"Customer: {customer_name or 'unknown'} ({platform}) · Priority: {priority}"
        + (f" · Queue: {queue}" if queue else "")
        + (f" · Tags: {', '.join(tags)}" if tags else ""),
        f"Status: {status_line}" + (f" · reopened {reopened}×" if reopened else ""),
    ]
    if first_response_due is not None:
        lines.append(f"First response due: {first_response_due:%Y-%m-%d %H:%M} UTC")
    if customer_words:
        lines.append(f"Customer wrote: {customer_words}")
    if suggested:
        lines.append(f"Bot suggested: {suggested}")
    if status_line not in ("resolved", "closed"):
        lines.append(
            f"Commands: {hint('claim')} {number} · {hint('reply')} {number} <text> · "
            f"{hint('note')} {number} <text> · {hint('pending')} {number} · "
            f"{hint('transfer')} {number} <queue or @agent> · {hint('resolve')} {number}"
        )
    return "\n".join(lines)


THREAD_UNAVAILABLE = (
    "I couldn't open a thread for this case (the bot needs the Create Public Threads "
    "permission in this channel), so its updates will follow as replies to this post."
)


def escalation_buttons(number: int) -> tuple[Button, ...]:
    return (
        Button("Claim", button_payload("claim", number), style="primary"),
        Button("Release", button_payload("release", number)),
        Button("Reply", button_payload("reply", number), opens_form=True),
        Button("Transfer", button_payload("transfer", number)),  # answered with queue buttons
        Button("Resolve", button_payload("resolve", number), style="danger"),
    )


def transferred_away_post(number: int, subject: str, target: str, agent_name: str) -> str:
    return f"Case #{number} — {subject}\nTransferred to {target} by {agent_name}."


def customer_wrote(number: int, customer_name: str, text: str) -> str:
    return f"#{number} {customer_name or 'Customer'}: {text}"


def claimed_by(number: int, agent_name: str) -> str:
    return f"#{number} claimed by {agent_name}."


def claim_conflict(number: int, holder: str) -> str:
    return f"#{number} is already claimed by {holder}."


def queue_members_only(number: int, queue: str) -> str:
    """An agent outside a queue with members looked at or acted on one of its cases."""
    return (
        f"#{number} is in the {queue} queue, which only its members and managers can see and "
        "work on. Ask one of them, or a manager."
    )


def queue_members_only_into(queue: str) -> str:
    return (
        f"Only members of the {queue} queue and managers can move cases into it. Ask one of "
        "them, or a manager."
    )


def not_a_queue_member(name: str, queue: str) -> str:
    return f"{name} isn't a member of the {queue} queue, so this case can't go to them."


def held_by_another(number: int, holder: str) -> str:
    """An agent tried to change a colleague's claimed case (resolve, priority, pending,
    release, transfer): only its holder or a manager may."""
    return (
        f"#{number} is claimed by {holder}: only they or a manager can change it. "
        "Add a note, or ask them to release it."
    )


def released_by(number: int, agent_name: str) -> str:
    return f"#{number} released by {agent_name}; it is unclaimed again."


def reply_queued(number: int) -> str:
    # not "sent": the agent is told again once the platform has taken it (reply_delivered)
    return f"#{number} reply queued for the customer; I'll confirm here once it's delivered."


def reply_delivered(number: int) -> str:
    return f"#{number} reply delivered to the customer."


def _preview(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 80 else line[:79] + "…"


def customer_message_failed(number: int, text: str, conversation: str) -> str:
    return (
        f"#{number} could not deliver to the customer after retrying: “{_preview(text)}”. "
        f"Once their platform works again an operator can resend it with "
        f"'helpdesk outbox retry --conversation {conversation}'; or reach them another way."
    )


def customer_unreachable(number: int, text: str, platform: str) -> str:
    return (
        f"#{number} the customer can't be reached on {platform} (they blocked the bot or "
        f"closed their direct messages), so this was not delivered: “{_preview(text)}”. "
        f"They'll get messages again once they write to us; until then, reach them another way."
    )


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


# --- SLA notices, stale cases, manager stats (bot.dialogs.sla_notices, bot.dialogs.stats) --

_SLA_TARGETS = {"first_response": "first response", "resolution": "resolution"}
STATS_USAGE = (
    f"Try '{hint('stats')}', '{hint('stats')} today', '{hint('stats')} week' or "
    f"'{hint('stats')} month'."
)
NOT_A_MANAGER = "Sorry, only managers can see stats."

# --- the live dashboard's sign-in link (bot.dialogs.dashboard_link) --------------------------

NOT_A_MANAGER_FOR_DASHBOARD = "Sorry, only managers and admins can open the dashboard."
DASHBOARD_NOT_SET_UP = (
    "The dashboard is not set up here: its address goes in helpdesk.yml (dashboard: url:)."
)


def dashboard_link(url: str, minutes: int) -> str:
    return (
        f"Your sign-in link to the dashboard (works once, for {minutes} minutes; "
        f"only you can see this):\n{url}"
    )


def outside_hours(opens_at: datetime) -> str:
    """Told to a customer who opens a case while the team is away; ``opens_at`` is local."""
    return (
        f"Our team is away right now and back {opens_at:%A %d %B at %H:%M} ({opens_at:%Z}); "
        "we'll answer then."
    )


def _who(assignee_name: str | None) -> str:
    return assignee_name or "the queue (unclaimed)"


def sla_warning(number: int, target: str, due_local: datetime, assignee_name: str | None) -> str:
    return (
        f"⏰ #{number}: the {_SLA_TARGETS.get(target, target)} target is due "
        f"{due_local:%a %H:%M %Z} — {_who(assignee_name)}."
    )


def sla_breach(number: int, target: str, due_local: datetime, assignee_name: str | None) -> str:
    return (
        f"🚨 #{number} breached its {_SLA_TARGETS.get(target, target)} target "
        f"(due {due_local:%a %H:%M %Z}) — {_who(assignee_name)}."
    )


def sla_breach_for_managers(
    number: int,
    subject: str,
    priority: str,
    target: str,
    due_local: datetime,
    assignee_name: str | None,
) -> str:
    return (
        f"🚨 SLA breach: #{number} ({priority}) {subject} — {_SLA_TARGETS.get(target, target)} "
        f"was due {due_local:%a %d %b %H:%M %Z}; {_who(assignee_name)}."
    )


def still_unclaimed(number: int, subject: str, waited_minutes: int) -> str:
    hours, minutes = divmod(waited_minutes, 60)
    waited = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return f"#{number} is still unclaimed after {waited}: {subject} — '{hint('claim')} {number}'."


def nudge_customer(number: int) -> str:
    return (
        f"We're still waiting for your answer on case #{number}. Just write here when you can — "
        "otherwise we'll close it in a while (you can still reopen it for a few days after)."
    )


def stale_closed_for_customer(number: int) -> str:
    return (
        f"We haven't heard back, so case #{number} is now closed. If you still need help, just "
        "write here — you can reopen it for a few days."
    )


def nudged_for_agents(number: int) -> str:
    return f"#{number}: the customer was reminded that we're waiting for their answer."


def stale_closed_for_agents(number: int) -> str:
    return f"#{number} closed: no answer from the customer after the reminder."


def pending_set(number: int, agent_name: str) -> str:
    return f"#{number} is waiting on the customer (pending), set by {agent_name}."


def priority_changed(number: int, priority: str, agent_name: str) -> str:
    return f"#{number} priority set to {priority} by {agent_name}."


def transferred_to(number: int, target: str, agent_name: str) -> str:
    return f"#{number} transferred to {target} by {agent_name}."


def transfer_usage(number: int, queues: Sequence[str]) -> str:
    return (
        f"Transfer to whom? Try '{hint('transfer')} {number} <queue>' (queues: "
        f"{', '.join(queues)}) or '{hint('transfer')} {number} @agent-id'."
    )


def transfer_buttons(number: int, queues: Sequence[str]) -> tuple[Button, ...]:
    """One button per queue (those whose name fits a button payload)."""
    return tuple(
        Button(f"→ {name}", button_payload("transfer", number, name))
        for name in queues
        if len(button_payload("transfer", number, name).encode()) <= BUTTON_PAYLOAD_MAX_BYTES
    )[:5]


def transfer_target_unknown(target: str, queues: Sequence[str]) -> str:
    return (
        f"I don't know an agent or queue called '{target[:40]}'. "
        f"Queues: {', '.join(queues)}; agents by @id or by the name they act under."
    )


def auto_released(number: int, holder: str, minutes: int) -> str:
    return (
        f"#{number} released automatically: {holder} did nothing on it for {minutes} minutes. "
        "It is unclaimed again."
    )


def auto_closed(number: int) -> str:
    return f"#{number} closed: its reopen window has passed."


def reopened_by_customer(number: int, customer_name: str, text: str, count: int) -> str:
    return f"#{number} reopened by {customer_name or 'the customer'} ({count}×): {text}"


def customer_commented(number: int, text: str) -> str:
    return f"#{number} customer's comment on their rating: {text}"


def agent_attachment_refused(names: Sequence[str]) -> str:
    listed = ", ".join(n[:60] for n in names[:5])
    return (
        f"Files can't be passed on to customers yet, so {listed} did not reach anyone. "
        "Describe it in words or share a link in a reply."
    )


def macro_list(rows: Sequence[tuple[str, str]]) -> str:
    lines = ["Macros:"]
    lines.extend(f"{name} — {body[:60]}" for name, body in rows)
    return "\n".join(lines)


def macro_preview(name: str, text: str, number: int | None) -> str:
    where = f" (for #{number})" if number else ""
    return f"Macro {name}{where}:\n{text}"


def macro_saved(name: str, created: bool) -> str:
    return f"Macro {name} {'added' if created else 'updated'}."


def macro_deleted(name: str) -> str:
    return f"Macro {name} deleted."


def case_header(
    number: int,
    subject: str,
    status: str,
    *,
    customer: str,
    platform: str,
    priority: str,
    queue: str,
    assignee: str | None,
    reopened: int,
    csat: int | None,
    csat_comment: str | None,
) -> list[str]:
    lines = [
        f"Case #{number} — {subject} — {status}",
        f"Customer: {customer or 'unknown'} ({platform}) · Priority: {priority} · Queue: {queue}"
        + (f" · With: {assignee}" if assignee else ""),
    ]
    if reopened:
        lines.append(f"Reopened {reopened}×")
    if csat is not None:
        lines.append(f"Rating: {csat}/5" + (f" — {csat_comment}" if csat_comment else ""))
    return lines


# The knowledge base from chat (``kb …``, admins only)
KB_USAGE = (
    f"Articles: '{hint('kb')} add', '{hint('kb')} edit SLUG', '{hint('kb')} preview SLUG', "
    f"'{hint('kb')} publish SLUG', '{hint('kb')} retire SLUG', '{hint('kb')} history SLUG', "
    f"'{hint('kb')} rollback SLUG [VERSION]', '{hint('kb')} list [drafts|retired|all]', "
    f"'{hint('kb')} search WORDS', '{hint('kb')} promote N' (a resolved case's answer as a draft)."
)
KB_FORM_BUTTON = "Write the article"
KB_EDIT_BUTTON = "Edit in a form"
KB_PUBLISH_BUTTON = "Publish"
KB_PREVIEW_BUTTON = "Preview"
KB_OPEN_FORM = "Press the button to write the article in a form."
KB_ASK_TITLE = "New article. What is its title? (Type 'cancel' at any step to stop.)"
KB_ASK_BODY = (
    "And the answer customers should get? Write it in one message (Markdown; '## Heading' "
    "starts a section)."
)
KB_ASK_QUESTIONS = "Last: questions customers ask that this answers, one per line — or 'none'."
KB_PROMPT_CANCELLED = "Stopped. Nothing was saved."
KB_KEEP_HINT = "(Send '.' to keep it as it is.)"
KB_NO_ARTICLES = "No articles there."
KB_NOTHING_FOUND = "No article has all of those words."
KB_PROMOTE_USAGE = f"Which case? Try '{hint('kb')} promote 12'."
KB_NOT_RESOLVED = "Only a resolved case can become an article: its answer has to be final."
KB_FORM_INCOMPLETE = "A new article needs a title and an answer; nothing was saved."
KB_NO_AGENT_ANSWER = "That case has no answer from an agent to turn into an article."


def kb_edit_step(field: str, current: str) -> str:
    shown = current if len(current) <= 300 else current[:300] + "…"
    return f"New {field}? Now: {shown or '(none)'} {KB_KEEP_HINT}"


def kb_too_long(what: str, limit: int) -> str:
    return f"That {what} is too long: keep it under {limit} characters and send it again."


def kb_draft_saved(slug: str) -> str:
    return (
        f"Saved as draft '{slug}'. Customers don't see it until it is published: check it "
        f"below, then '{hint('kb')} publish {slug}'."
    )


def kb_edit_saved(slug: str, number: int, live: bool) -> str:
    if live:
        return (
            f"Saved as revision {number} of '{slug}', not live yet: customers still get the "
            f"published text until '{hint('kb')} publish {slug}'."
        )
    return f"Saved revision {number} of '{slug}' (not published)."


def kb_published(slug: str, number: int) -> str:
    return f"Published '{slug}' (revision {number}). Customers get it from their next message."


def kb_retired(slug: str, number: int) -> str:
    return (
        f"Retired '{slug}' (revision {number}): customers no longer get it. It stays in the "
        f"history; '{hint('kb')} rollback {slug}' brings it back."
    )


def kb_rolled_back(slug: str, number: int, restored: int) -> str:
    return f"'{slug}' is back to revision {restored}'s text, published as revision {number}."


def kb_promoted(case: int, slug: str) -> str:
    return f"Case #{case}'s answer is now draft '{slug}'."


def kb_refused(reason: str, slug: str, detail: str) -> str:
    """Why a ``kb`` change could not be made (``ArticleChangeRefused.reason``)."""
    return {
        "unknown": f"There is no article '{slug}'. Try '{hint('kb')} search WORDS'.",
        "unchanged": f"That is what '{slug}' already says: nothing to save.",
        "nothing_to_publish": f"'{slug}' is published and has no unpublished edit.",
        "already_retired": f"'{slug}' is already retired.",
        "no_earlier": f"'{slug}' has no earlier published text to go back to.",
        "no_such_revision": f"'{slug}' has no revision {detail}. See '{hint('kb')} history "
        f"{slug}'.",
    }.get(reason, f"That change to '{slug}' could not be made.")


def kb_preview(
    slug: str, status: str, number: int, pending: bool, title: str, body: str, questions: str
) -> str:
    state = f"{status}, revision {number}" + (" — an unpublished edit" if pending else "")
    asked = f"\n\nAnswers: {questions}" if questions else ""
    return f"Preview of '{slug}' ({state}):\n\n{title}\n\n{body}{asked}"


def kb_history_line(
    number: int, at: datetime, action: str, status: str, actor: str, changes: str
) -> str:
    what = f" — {changes}" if changes else ""
    return f"{number}. {at:%Y-%m-%d %H:%M} {action} ({status}) by {actor}{what}"


def kb_list_line(slug: str, title: str, status: str, pending: bool) -> str:
    edit = ", unpublished edit" if pending else ""
    return f"{slug} — {title} ({status}{edit})"


# --- knowledge gaps and intent-example suggestions (admins) ----------------------------------

GAPS_USAGE = (
    f"Try '{hint('gaps')}' (the last 30 days), '{hint('gaps')} 7' (the last 7), "
    f"'{hint('gaps')} draft 2' (a draft article from gap 2) or "
    f"'{hint('gaps')} examples 2 INTENT' (gap 2's questions as that intent's examples)."
)
NO_GAPS = "No knowledge gaps in the last {days} days: every question was answered or understood."
GAPS_SHOW_FIRST = f"Which gaps? Show them first with '{hint('gaps')}', then pick one by number."
GAP_DRAFT_BODY = "Customers asked this in {count} ways. Write the answer here, then publish it."
SUGGESTIONS_NONE = (
    "No suggestions waiting: no message the bot missed has been handled by an agent since the "
    "last review."
)
ACCEPT_USAGE = f"Which suggestion? Try '{hint('accept')} 12' or '{hint('accept')} 12 INTENT'."
REJECT_USAGE = f"Which suggestion? Try '{hint('reject')} 12'."
ACCEPT_BUTTON = "Accept"
REJECT_BUTTON = "Reject"


def gaps_listing(days: int, lines: Sequence[str]) -> str:
    return (
        f"Knowledge gaps, last {days} days (count, then the {days} days before):\n"
        + "\n".join(lines)
        + f"\nNext: '{hint('gaps')} draft N' for a draft article, "
        f"'{hint('gaps')} examples N INTENT' to teach an intent."
    )


def no_gap(number: int, shown: int) -> str:
    return f"There is no gap {number} in the list shown here (1–{shown})."


def gap_drafted(number: int, slug: str, questions: int) -> str:
    return (
        f"Draft '{slug}' made from gap {number} ({questions} example questions). "
        f"Edit it and publish it with '{hint('kb')} publish {slug}'."
    )


def gap_taught(number: int, intent: str, added: int, offered: int) -> str:
    return (
        f"Gap {number}: {added} of {offered} questions added as examples of '{intent}'; the "
        "intent model retrains in the background."
    )


def suggestion_line(number: int, text: str, case: int, queue: str, intent: str | None) -> str:
    proposal = f"as an example of '{intent}'" if intent else "(which intent? name one)"
    how = f"'{hint('accept')} {number}'" if intent else f"'{hint('accept')} {number} INTENT'"
    return (
        f"Suggestion {number}: {text} — handled by an agent in case #{case} ({queue}); "
        f"add it {proposal}? {how} or '{hint('reject')} {number}'."
    )


def no_suggestion(number: int) -> str:
    return f"There is no suggestion {number} waiting for a review."


def suggestion_needs_intent(number: int) -> str:
    return f"Which intent should suggestion {number} teach? Try '{hint('accept')} {number} INTENT'."


def suggestion_accepted(number: int, intent: str, added: int) -> str:
    outcome = "added" if added else "already an example, nothing added"
    return f"Suggestion {number} accepted for '{intent}' ({outcome})."


def suggestion_rejected(number: int) -> str:
    return f"Suggestion {number} rejected; it will not be proposed again."


# --- admins: intents (``intent …`` in the agents' or admins' channel) ------------------------

INTENT_USAGE = (
    "Intent commands: intent list · intent show NAME · intent create NAME · "
    "intent add NAME example | another example · intent examples NAME add|remove example | … · "
    "intent action NAME article SLUG|say TEXT|handoff QUEUE|route QUEUE|none · "
    "intent retire NAME"
)
INTENT_RETRAINING = "Retraining the intent model now; the next messages use it once it is ready."


def intent_list(rows: Sequence[tuple[str, int, str, str]], method: str) -> str:
    """``rows``: (name, examples, accuracy as shown, notes) for each intent."""
    lines = ["Intents (examples · held-out accuracy):"]
    lines += [f"• {name} · {count} · {accuracy}{notes}" for name, count, accuracy, notes in rows]
    if method:
        lines.append(f"Accuracy: {method}, measured at the last training.")
    return "\n".join(lines)


def intent_details(
    name: str, examples: Sequence[str], action: str, accuracy: str, *, builtin: bool
) -> str:
    kind = "built in (the dialog's own)" if builtin else f"does: {action or 'the default'}"
    shown = "\n".join(f"  - {text}" for text in examples[:30])
    more = f"\n  … and {len(examples) - 30} more" if len(examples) > 30 else ""
    return (
        f"Intent {name} — {kind} — held-out accuracy {accuracy}\n"
        f"{len(examples)} examples:\n{shown}{more}"
    )


def intent_created(name: str, created: bool) -> str:
    if not created:
        return f"Intent {name} already exists."
    return f"Intent {name} created. Give it examples: intent add {name} example | another"


def intent_examples_added(name: str, added: int, already: Sequence[tuple[str, str]]) -> str:
    said = f"Added {added} example{'s' if added != 1 else ''} to {name}."
    for text, owner in already[:10]:
        said += f"\nAlready an example of {owner}: {text}"
    return said


def intent_examples_removed(name: str, removed: int) -> str:
    return f"Removed {removed} example{'s' if removed != 1 else ''} from {name}."


def intent_retired(name: str, examples: int) -> str:
    return (
        f"Intent {name} retired: its {examples} examples no longer train the model "
        f"(intent create {name} brings it back)."
    )


def intent_action_set(name: str, described: str) -> str:
    return f"Intent {name} now {described}." if described else f"Intent {name}: default action."
