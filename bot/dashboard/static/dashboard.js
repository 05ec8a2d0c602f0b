// The live dashboard: figures arrive as snapshots on the event stream (server-sent events);
// SLA clocks count down here, every second, from the due times the server gave.
"use strict";

(function () {
  const TARGETS = { first_response: "First response", resolution: "Resolution" };
  const STATUSES = { new: "Unclaimed", open: "Claimed", pending: "Waiting on customer" };
  let timeZone = "UTC";
  let lastSummary = "";
  let skew = 0; // the server's clock minus this device's: clocks count in the server's time

  function now() {
    return Date.now() + skew;
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function span(seconds) {
    const s = Math.max(0, Math.round(Math.abs(seconds)));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    if (m) return m + "m " + (s % 60) + "s";
    return (s % 60) + "s";
  }

  function clockTime(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone });
  }

  function percent(rate) {
    if (rate === null || rate === undefined) return "–";
    const value = Math.floor(rate * 1000) / 10; // never rounds up to 100 %
    return value + " %";
  }

  function dig(object, path) {
    return path.split(".").reduce((o, k) => (o === null || o === undefined ? o : o[k]), object);
  }

  function durations(d) {
    if (!d || !d.n) return "– (n 0)";
    const few = d.few ? " · few cases" : "";
    return span(d.median_s) + " · p90 " + span(d.p90_s) + " (n " + d.n + few + ")";
  }

  function figure(periods, key) {
    const [period, ...rest] = key.split(".");
    const p = periods[period];
    const name = rest.join(".");
    if (!p) return "–";
    if (name === "first_response" || name === "resolution") return durations(p[name]);
    if (name === "csat") {
      const c = p.csat;
      return c.n ? c.average.toFixed(1) + " (n " + c.n + ")" : "– (n 0)";
    }
    if (name.endsWith("rate")) return percent(dig(p, name));
    const value = dig(p, name);
    return value === undefined || value === null ? "–" : String(value);
  }

  function renderQueues(queues) {
    const body = document.querySelector("#queue tbody");
    body.replaceChildren(
      ...queues.map((q) => {
        const row = el("tr");
        row.append(el("th", q.queue), el("td", q.unclaimed));
        const oldest = el("td", q.oldest_since ? "" : "–");
        if (q.oldest_since) {
          oldest.dataset.since = q.oldest_since;
        }
        row.append(oldest);
        row.firstChild.setAttribute("scope", "row");
        return row;
      })
    );
  }

  function clockCell(c, pausedSince) {
    const cell = el("td", null, "sla");
    if (!c) {
      cell.textContent = "–";
      return cell;
    }
    if (!c.due) {
      cell.textContent = "no target";
      return cell;
    }
    cell.dataset.target = c.target;
    cell.dataset.due = c.due;
    cell.dataset.warn = c.warn_at;
    if (pausedSince) cell.dataset.paused = pausedSince;
    cell.append(el("span", "", "state"), " ", el("span", "", "left"));
    return cell;
  }

  function renderCases(cases) {
    const body = document.querySelector("#sla tbody");
    body.replaceChildren(
      ...cases.map((c) => {
        const row = el("tr");
        row.dataset.case = c.number;
        const head = el("th");
        head.setAttribute("scope", "row");
        head.append(el("span", "#" + c.number, "number"), " ", el("span", c.subject, "subject"));
        const status = el("td", STATUSES[c.status] || c.status);
        if (c.holder) status.append(el("span", " · " + c.holder, "holder"));
        if (c.unclaimed_since) {
          const since = el("span", "", "age");
          since.dataset.since = c.unclaimed_since;
          status.append(" ", since);
        }
        const byTarget = Object.fromEntries(c.clocks.map((k) => [k.target, k]));
        row.append(
          head,
          el("td", c.queue + " · " + c.priority, "optional"),
          status,
          clockCell(byTarget.first_response, c.paused_since),
          clockCell(byTarget.resolution, c.paused_since)
        );
        return row;
      })
    );
    document.getElementById("no-open-cases").hidden = cases.length > 0;
  }

  function renderGaps(gaps) {
    const panel = document.getElementById("gaps-panel");
    panel.hidden = gaps === null || gaps === undefined; // no encoder in this process
    if (panel.hidden) return;
    const body = document.querySelector("#gaps tbody");
    body.replaceChildren(
      ...gaps.map((g) => {
        const row = el("tr");
        const head = el("th", String(g.rank));
        head.setAttribute("scope", "row");
        const trend = g.trend === "new" ? "new" : "before: " + g.previous;
        const cases = g.cases.length ? " · cases " + g.cases.map((n) => "#" + n).join(", ") : "";
        row.append(head, el("td", g.count + "× (" + trend + ")"), el("td", g.examples.join(" · ") + cases));
        return row;
      })
    );
    document.getElementById("no-gaps").hidden = gaps.length > 0;
  }

  function tick() {
    const at = now();
    document.querySelectorAll("td.sla[data-due]").forEach((cell) => {
      const due = Date.parse(cell.dataset.due);
      const warn = Date.parse(cell.dataset.warn);
      let state, left;
      if (cell.dataset.paused) {
        state = "paused";
        left = "since " + clockTime(cell.dataset.paused);
      } else if (at >= due) {
        state = "breached";
        left = "late by " + span((at - due) / 1000);
      } else {
        state = at >= warn ? "warning" : "ok";
        left = "due in " + span((due - at) / 1000);
      }
      const label = { ok: "OK", warning: "Warning", breached: "Breached", paused: "Paused" }[state];
      cell.className = "sla sla-" + state;
      cell.dataset.state = state;
      cell.querySelector(".state").textContent = label;
      cell.querySelector(".left").textContent = left;
    });
    document.querySelectorAll("[data-since]").forEach((node) => {
      node.textContent = "waiting " + span((at - Date.parse(node.dataset.since)) / 1000);
    });
  }

  function render(data) {
    timeZone = data.timezone || "UTC";
    document.getElementById("timezone").textContent = timeZone;
    renderQueues(data.queues);
    renderCases(data.cases);
    renderGaps(data.gaps);
    document.querySelectorAll("[data-figure]").forEach((cell) => {
      cell.textContent = figure(data.periods, cell.dataset.figure);
    });
    tick();
    // the one live region: a short summary, announced only when it changes
    const waiting = data.queues.reduce((sum, q) => sum + q.unclaimed, 0);
    const summary = "Live. " + data.cases.length + " open, " + waiting + " unclaimed.";
    const status = document.getElementById("status");
    if (summary !== lastSummary) {
      status.textContent = summary;
      lastSummary = summary;
    }
    status.title = "Updated " + clockTime(data.as_of);
  }

  function toSignIn() {
    window.location.assign("/dashboard/login");
  }

  function connect() {
    const source = new EventSource("/dashboard/events");
    source.addEventListener("snapshot", (event) => {
      const message = JSON.parse(event.data);
      skew = Date.parse(message.now) - Date.now();
      render(message.figures);
    });
    source.addEventListener("signed-out", () => {
      source.close();
      toSignIn();
    });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) {
        lastSummary = "";
        document.getElementById("status").textContent = "Reconnecting…";
        return;
      }
      // the stream was refused (signed out, or the role was taken away): ask once why
      fetch("/dashboard/data.json", { credentials: "same-origin" }).then((response) => {
        if (response.status === 401) toSignIn();
        else window.setTimeout(connect, 3000);
      }, () => window.setTimeout(connect, 3000));
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    connect();
    window.setInterval(tick, 1000);
  });
})();
