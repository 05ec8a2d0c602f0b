"""The dashboard's HTML: a sign-in page, a sign-in-link confirmation and the dashboard itself.
Plain HTML with every value escaped; no inline script or style (the CSP forbids both), the
figures are filled in by ``static/dashboard.js`` from the event stream."""

from __future__ import annotations

from html import escape


def _page(title: str, body: str, assets: dict[str, str], *, script: bool = False) -> str:
    js = f'<script src="{escape(assets["dashboard.js"])}" defer></script>' if script else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{escape(assets["dashboard.css"])}">
{js}
</head>
<body>
{body}
</body>
</html>
"""


def sign_in_page(
    assets: dict[str, str], *, csrf: str, passwords: bool, message: str = "", account: str = ""
) -> str:
    note = f'<p class="notice" role="alert">{escape(message)}</p>' if message else ""
    form = (
        f"""<form method="post" action="/dashboard/login" class="sign-in">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<label for="account">Account
<span class="hint">(as in helpdesk.yml, e.g. slack:U0123)</span></label>
<input id="account" name="account" autocomplete="username" required value="{escape(account)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"""
        if passwords
        else ""
    )
    body = f"""<main class="narrow">
<h1>Help desk dashboard</h1>
{note}
<p>For managers and admins. Type <kbd>dashboard</kbd> in the agents' channel and the bot sends
you a sign-in link that only you can see.</p>
{form}
</main>"""
    return _page("Sign in — help desk dashboard", body, assets)


def confirm_link_page(assets: dict[str, str], *, token: str, csrf: str) -> str:
    # a button rather than signing in on GET: link previews in chat apps fetch the link too,
    # and must not use up the one-time token
    body = f"""<main class="narrow">
<h1>Help desk dashboard</h1>
<form method="post" action="/dashboard/sign-in/{escape(token)}" class="sign-in">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<button type="submit">Continue to the dashboard</button>
</form>
</main>"""
    return _page("Sign in — help desk dashboard", body, assets)


def _period_table(caption: str, rows: list[tuple[str, str]], table_id: str) -> str:
    lines = "\n".join(
        f'<tr><th scope="row">{escape(label)}</th><td data-figure="today.{key}">–</td>'
        f'<td data-figure="week.{key}">–</td></tr>'
        for label, key in rows
    )
    return f"""<table id="{table_id}">
<caption>{escape(caption)}</caption>
<thead><tr><td></td><th scope="col">Today</th><th scope="col">This week</th></tr></thead>
<tbody>
{lines}
</tbody>
</table>"""


def dashboard_page(assets: dict[str, str], *, person: str, logout_csrf: str) -> str:
    volume = _period_table(
        "Cases opened and resolved", [("Opened", "opened"), ("Resolved", "resolved")], "volume"
    )
    deflection = _period_table(
        "Answers the bot showed, by what became of them",
        [
            ("Deflection rate", "deflection.rate"),
            ("Confirmed", "deflection.confirmed"),
            ("Assumed", "deflection.assumed"),
            ("Not helpful", "deflection.not_helpful"),
            ("Escalated", "deflection.escalated"),
            ("Undecided", "deflection.undecided"),
        ],
        "deflection",
    )
    times = _period_table(
        "Business hours; median, p90 and n",
        [("First response", "first_response"), ("Resolution", "resolution")],
        "times",
    )
    csat = _period_table(
        "Customer ratings, 1–5",
        [("Average (n)", "csat"), ("Rated resolutions", "csat.response_rate")],
        "csat",
    )
    body = f"""<header class="top">
<h1>Help desk — live</h1>
<p id="status" role="status" aria-live="polite">Connecting…</p>
<form method="post" action="/dashboard/logout" class="sign-out">
<input type="hidden" name="csrf" value="{escape(logout_csrf)}">
<span class="who">{escape(person)}</span>
<button type="submit">Sign out</button>
</form>
</header>
<main id="dashboard" class="grid">
<section aria-labelledby="h-queue" class="panel">
<h2 id="h-queue">Queue</h2>
<table id="queue">
<caption>Unclaimed cases by queue</caption>
<thead><tr><th scope="col">Queue</th><th scope="col">Unclaimed</th>
<th scope="col">Oldest waiting</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section aria-labelledby="h-volume" class="panel">
<h2 id="h-volume">Volume</h2>
{volume}
</section>
<section aria-labelledby="h-csat" class="panel">
<h2 id="h-csat">CSAT</h2>
{csat}
</section>
<section aria-labelledby="h-sla" class="panel wide">
<h2 id="h-sla">SLA clocks</h2>
<div class="scroll" role="region" aria-labelledby="h-sla" tabindex="0">
<table id="sla">
<caption>Every open case, most urgent first</caption>
<thead><tr><th scope="col">Case</th><th scope="col" class="optional">Queue</th>
<th scope="col">Status</th><th scope="col">First response</th>
<th scope="col">Resolution</th></tr></thead>
<tbody></tbody>
</table>
</div>
<p class="empty" id="no-open-cases" hidden>No open cases.</p>
</section>
<section aria-labelledby="h-deflection" class="panel">
<h2 id="h-deflection">Deflection</h2>
{deflection}
</section>
<section aria-labelledby="h-times" class="panel">
<h2 id="h-times">Response times</h2>
{times}
</section>
<section aria-labelledby="h-gaps" class="panel wide" id="gaps-panel" hidden>
<h2 id="h-gaps">Knowledge gaps</h2>
<table id="gaps">
<caption>This week so far: what customers asked that the desk does not cover, largest
first, with the count over the same length of time before</caption>
<thead><tr><th scope="col">Gap</th><th scope="col">Asked</th>
<th scope="col">Examples</th></tr></thead>
<tbody></tbody>
</table>
<p class="empty" id="no-gaps" hidden>No knowledge gaps this week.</p>
</section>
</main>
<footer class="definitions">
<p>Today and this week so far, in the digest's time zone (<span id="timezone">UTC</span>).
Every figure is counted as in the digests: <code>helpdesk digest --explain</code>.</p>
</footer>"""
    return _page("Help desk — live", body, assets, script=True)
