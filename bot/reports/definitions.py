"""What each digest figure counts, in the words ``helpdesk digest --explain`` prints (the same
definitions are in docs/sla-and-digests.md). The digest's footer points here."""

from __future__ import annotations

from bot.reports.metrics import FEW

FOOTER = "How each figure is counted: helpdesk digest --explain"

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "The period",
        "A local calendar day, ISO week or month in the digest's time zone. Every figure is "
        "computed from the recorded history before the period's end (each case's audit trail "
        "and the answers shown), so the digest of a period reads the same whenever it is "
        "taken again (helpdesk digest --now --as-of <when it was posted>).",
    ),
    ("Opened", "Cases opened in the period; the previous period's count beside it."),
    (
        "Resolved",
        "Resolutions in the period (a case resolved, reopened and resolved again counts each "
        "time). A later reopen does not take a resolution out of its period.",
    ),
    (
        "Reopened",
        "Reopens in the period, counted when they happened; and of the period's resolutions, "
        "how many had been reopened by its end.",
    ),
    (
        "Open at the end",
        "Cases new, open or pending at the period's end, by status and priority. Overdue: a "
        "first response or resolution due time had passed by then (the clock stands still while "
        "a case waits on the customer). Never answered: no agent reply yet. Oldest: the age of "
        "the oldest of them, clock time since it was opened.",
    ),
    (
        "Deflection",
        "Every answer the bot showed in the period, in exactly one class, so they add up to "
        "answers shown: confirmed (the customer said it helped); not helpful (they said it did "
        "not, to this answer or to the next one within 24 h); escalated (no verdict, and the "
        "conversation opened a case within 24 h); assumed (none of these within 24 h: the "
        "customer left without asking further — a guess, kept apart from confirmed); undecided "
        "(none of these yet, 24 h not over). Deflection rate: (confirmed + assumed) of the "
        "decided answers (all but undecided).",
    ),
    (
        "Earlier undecided",
        "The answers the previous period's digest counted as undecided, and what they are now.",
    ),
    (
        "First response time",
        "From opening to the first agent reply, for first replies given in the period. Business "
        "hours (the desk's calendar, as the SLA counts them) with clock time in brackets.",
    ),
    (
        "Resolution time",
        "From opening — or from the reopen, for work after a reopen — to each resolution in the "
        "period; business hours with clock time in brackets.",
    ),
    (
        "Median, p90, n",
        "The median is the middle value (the mean of the two middle ones); p90 is the nearest-"
        f"rank 90th percentile. n is how many cases they are taken over; below {FEW} they are "
        "marked as few cases, read with care.",
    ),
    (
        "SLA",
        "For the cases opened in the period, as things stood at its end: met (done at or before "
        "the due time), breached (done after it, or not done and past it), running (not done, "
        "not yet due). The percentage is met of met + breached and never rounds up to 100 % "
        "(199 of 200 reads 99.5 %). A reopened case gets a fresh resolution target from the "
        "reopen; a late resolution before or after it breaches the case. A case closed without "
        "a resolution counts only if it was late by then. Breaches are counted "
        "for the period the case was opened in, split by target.",
    ),
    (
        "CSAT",
        "Ratings given in the period (the last per case, if one changed their mind): mean and "
        "spread 1–5. Response rate: of the period's resolutions, the share rated by its end.",
    ),
    (
        "Top topics",
        "What the cases opened in the period were about (the problem's intent); cases where the "
        "customer only asked for a person are counted as without a topic.",
    ),
    (
        "Top unanswered",
        "Questions said not helpful to in the period, and subjects of cases opened with no "
        "answer shown in that conversation in the 24 h before.",
    ),
    (
        "Top knowledge gaps",
        "In the weekly digest: what customers asked that the desk does not cover, grouped by "
        "meaning with the bot's own sentence encoder. Signals are questions the bot could not "
        "answer with confidence (no article above the answer floor, or no topic on the way to a "
        "case), answers said not to help, and requests that became cases (their subject). A "
        "question followed by a case in the same conversation within 24 h counts once, with "
        "that case. Ranked by how often the gap came up in the week; beside it, the same "
        "group's count in the week before (new: none then). helpdesk kb gaps lists them for "
        "any period; gaps in chat, for admins.",
    ),
    (
        "Agents",
        "Per person, from the audit trail: claims, replies to customers and resolutions they "
        "made in the period — an automatic release takes none of it away — and the open cases "
        "they held at its end.",
    ),
    (
        "Chart",
        "Per local day of the period, every day shown: cases opened and resolved, cases open at "
        "the day's end, SLA targets breached by cases opened that day; and the CSAT spread with "
        "its n.",
    ),
    (
        "Not delivered / not handled",
        "Messages to people given up on and incoming messages that failed, now (they wait for "
        "someone, whatever the period): not part of the period's figures.",
    ),
)


def explain() -> str:
    return "\n\n".join(f"{name}\n  {text}" for name, text in DEFINITIONS)
