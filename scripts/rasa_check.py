"""The opt-in check against a real Rasa 3.6 server (not part of the test run; docs/rasa.md).

Run it from the checkout with the project's Python (3.11)::

    python scripts/rasa_check.py

It makes (or reuses) a Python 3.10 virtualenv with ``rasa==3.6.21`` — Rasa 3.6 needs 3.10 and
TensorFlow, so it cannot live in the project's own environment — trains the sample project in
``examples/rasa``, starts ``rasa run --enable-api`` and this checkout's ``helpdesk actions``
(with the agents' channel on its standard input), and drives one conversation through Rasa's
REST channel: a greeting, a question answered from the knowledge base, a case opened with a
handoff, an agent's claim and reply relayed back into the Rasa conversation, the case's status.
Then the same server answers ``NLU_BACKEND=rasa`` parses. Every step prints what it saw and how
long it took; the exit status is 0 only when every check passed.

Settings (environment): ``RASA_CHECK_VENV`` (default ``~/.cache/helpdesk/rasa-3.6.21``),
``RASA_CHECK_PYTHON`` (a Python 3.10; default: pyenv's newest 3.10).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "rasa"
RASA_VERSION = "3.6.21"
DEFAULT_VENV = Path.home() / ".cache" / "helpdesk" / f"rasa-{RASA_VERSION}"
START_TIMEOUT = 900.0  # seconds: a first start builds the help desk's model and index
REPLY_TIMEOUT = 120.0
AGENT_REPLY = "Hi, this is Sam from the team. Please hold the hub's button for 10 seconds."


class CheckFailed(Exception):
    pass


class Report:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.timings: list[tuple[str, float]] = []
        self.failures: list[str] = []

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"\n== {name}", flush=True)
        began = time.monotonic()
        try:
            yield
        except CheckFailed as exc:
            self.failures.append(f"{name}: {exc}")
            print(f"   FAILED: {exc}", flush=True)
        finally:
            took = time.monotonic() - began
            self.timings.append((name, took))
            print(f"   ({took:.1f} s)", flush=True)

    def summary(self) -> int:
        print("\n== summary")
        for name, took in self.timings:
            print(f"   {took:7.1f} s  {name}")
        print(f"   {time.monotonic() - self.started:7.1f} s  in all")
        for failure in self.failures:
            print(f"   FAILED  {failure}")
        print("   PASSED" if not self.failures else f"   {len(self.failures)} check(s) failed")
        return 0 if not self.failures else 1


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)
    print(f"   ok: {what}", flush=True)


def python310() -> str:
    configured = os.environ.get("RASA_CHECK_PYTHON")
    if configured:
        return configured
    versions = sorted((Path.home() / ".pyenv" / "versions").glob("3.10.*"))
    if versions:
        return str(versions[-1] / "bin" / "python")
    found = shutil.which("python3.10")
    if found:
        return found
    raise CheckFailed("no Python 3.10: install one (pyenv install 3.10) or set RASA_CHECK_PYTHON")


def ensure_rasa(venv: Path) -> Path:
    """The venv's ``rasa``, installing Rasa first when the venv lacks it."""
    rasa = venv / "bin" / "rasa"
    if rasa.exists():
        print(f"   reusing {venv}")
        return rasa
    subprocess.run([python310(), "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip", "setuptools<70", "wheel"], check=True)
    subprocess.run([*pip, f"rasa=={RASA_VERSION}"], check=True)
    return rasa


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Callable[[], bool], timeout: float, process: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise CheckFailed(f"{what}: the process exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if probe():
                return
        time.sleep(1.0)
    raise CheckFailed(f"{what}: not ready after {timeout:.0f} s")


class Lines:
    """A process's output, read on a thread, searchable while it runs."""

    def __init__(self, stream: Any, echo_prefix: str) -> None:
        self.lines: list[str] = []
        self._prefix = echo_prefix
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))
            print(f"   {self._prefix} {line.rstrip()}", flush=True)


def rest(client: httpx.Client, sender: str, text: str) -> list[dict[str, Any]]:
    print(f"   {sender}> {text}", flush=True)
    response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    response.raise_for_status()
    messages: list[dict[str, Any]] = response.json()
    for message in messages:
        print(f"   bot> {message.get('text', '')!r}", flush=True)
        for button in message.get("buttons", []):
            print(f"        [{button['title']}] -> {button['payload']}", flush=True)
    return messages


def conversation(report: Report, rasa_url: str, agents: subprocess.Popen[str], out: Lines) -> None:
    sender = f"check-{uuid.uuid4().hex[:8]}"
    client = httpx.Client(base_url=rasa_url, timeout=300.0)
    case_number = 0
    with report.step("REST: a greeting (Rasa's own response)"):
        said = rest(client, sender, "hello")
        check(bool(said) and "Lumio" in said[0].get("text", ""), "Rasa answered utter_greet")
    with report.step("REST: a question answered from the knowledge base"):
        said = rest(client, sender, "how do I reset my password?")
        text = " ".join(m.get("text", "") for m in said)
        check("password" in text.lower(), "the answer is the password article")
        check("Did this help?" in text, "it asks whether it helped")
        payloads = [b["payload"] for m in said for b in m.get("buttons", [])]
        check(any(p.startswith("/helpdesk_button") for p in payloads), "its buttons came along")
    with report.step("REST: a person, please — a case is opened and handed off"):
        said = rest(client, sender, "I want to talk to a person")
        text = " ".join(m.get("text", "") for m in said)
        check("opened case #" in text, "the help desk opened a case")
        case_number = int(text.split("opened case #", 1)[1].split()[0].rstrip("."))
        tracker = client.get(f"/conversations/{sender}/tracker").json()
        check(tracker["slots"].get("helpdesk_case") == str(case_number), "helpdesk_case slot set")
        check(tracker["slots"].get("helpdesk_handoff") is True, "helpdesk_handoff slot set")
        wait_for(
            "the agents' channel shows the case",
            lambda: any(f"#{case_number}" in line for line in out.lines),
            REPLY_TIMEOUT,
        )
        check(True, "the case reached the agents' channel (terminal:agents)")
    with report.step("agent: claim and reply; the reply is relayed into the Rasa conversation"):
        assert agents.stdin is not None
        for line in (f"/agent claim {case_number}", f"/agent reply {case_number} {AGENT_REPLY}"):
            print(f"   agent> {line}", flush=True)
            agents.stdin.write(line + "\n")
            agents.stdin.flush()

        def relayed() -> bool:
            events = client.get(f"/conversations/{sender}/tracker").json()["events"]
            return any(
                e.get("event") == "bot" and AGENT_REPLY in (e.get("text") or "") for e in events
            )

        wait_for("the agent's reply in the Rasa tracker", relayed, REPLY_TIMEOUT)
        events = client.get(f"/conversations/{sender}/tracker").json()["events"]
        bot = [
            e["text"]
            for e in events
            if e.get("event") == "bot" and AGENT_REPLY in (e.get("text") or "")
        ]
        print(f"   tracker bot event: {bot[-1]!r}", flush=True)
        check(True, "Rasa spoke the agent's reply (action_helpdesk_relay)")
    with report.step("REST: the person asks how the case is doing"):
        said = rest(client, sender, "what is the status of my case?")
        text = " ".join(m.get("text", "") for m in said)
        check(f"#{case_number}" in text, "the status names the case")


def nlu_backend(report: Report, rasa_url: str) -> None:
    from nlu.rasa_http import RasaParser

    class NoFallback:
        def parse_vector(self, text: str, vector: Any) -> Any:
            raise CheckFailed(f"Rasa failed; the built-in model would have parsed {text!r}")

    with report.step("NLU_BACKEND=rasa: the help desk's parser against the real server"):
        parser = RasaParser(url=rasa_url, fallback=NoFallback(), timeout=30.0)
        for text, intent in (
            ("I want to talk to a person", "human_handoff"),
            ("any update on my ticket?", "case_status"),
            ("where is my order LM-204518?", "ask_question"),
        ):
            parsed = parser.parse_remote(text)
            print(
                f"   {text!r} -> {parsed.intent} ({parsed.confidence:.2f}) "
                f"entities={[(e.entity, e.value) for e in parsed.entities]}",
                flush=True,
            )
            check(parsed.intent == intent, f"Rasa's intent for {text!r} is {intent}")


FEATURES = """\
version: "3.1"
nlu:
- intent: book_transfer
  metadata: {sentiment: neutral}
  examples: |
    - from [Berlin]{"entity": "city", "role": "departure"} to [Rome]{"entity": "city", \
"role": "destination"}
    - a [large]{"entity": "size", "group": "1"} [bulb]{"entity": "product", "group": "1"}
- intent: complain
  examples:
  - text: the app keeps crashing
    metadata: {urgency: high}
  - text: the [lightstrip](product:light strip) flickers
- synonym: light strip
  examples: |
    - led strip
- regex: order_number
  examples: |
    - LM-\\d{6}
- lookup: product
  examples: |
    - bulb
    - hub
"""

# run in the Rasa virtualenv: what Rasa's own loader makes of a file
RASA_LOADER = """
import json, sys
from rasa.shared.nlu.training_data.loading import load_data
data = load_data(sys.argv[1])
entities = lambda m: m.get("entities") or []
examples = [m for m in data.training_examples if m.get("intent")]
print(json.dumps({
    "examples": len(examples),
    "intents": len(data.intents),
    "synonyms": len(data.entity_synonyms),
    "regexes": [r["name"] for r in data.regex_features],
    "lookups": [t["name"] for t in data.lookup_tables],
    "roles": sorted({e["role"] for m in examples for e in entities(m) if "role" in e}),
    "groups": sorted({e["group"] for m in examples for e in entities(m) if "group" in e}),
    "metadata": json.dumps([m.get("metadata") for m in examples if m.get("metadata")]),
}))
"""


def exports(report: Report, rasa: Path, work: Path) -> None:
    """``helpdesk nlu export`` read by Rasa's own loader: the bundled data and a file with
    roles, groups, metadata, synonyms, regexes and lookups."""
    from nlu.training_data import load_training_data

    features = work / "features.yml"
    features.write_text(FEATURES, encoding="utf-8")
    python = str(rasa.parent / "python")
    for name, source in (
        ("the bundled data", None),  # the default: what the bundled desk trains on
        ("Rasa 3 features", features),
    ):
        with report.step(f"helpdesk nlu export ({name}) read by Rasa's loader"):
            out = work / f"export-{len(report.timings)}.yml"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "nlu",
                    "export",
                    *(["--data", str(source)] if source is not None else []),
                    "--out",
                    str(out),
                ],
                cwd=ROOT,
                check=True,
            )
            ours = load_training_data(source)
            seen = json.loads(
                subprocess.run(
                    [python, "-c", RASA_LOADER, str(out)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            print(f"   Rasa read: {seen}", flush=True)
            check(
                seen["examples"] == ours.example_count,
                f"Rasa reads all {ours.example_count} examples",
            )
            check(seen["intents"] == len(ours.intents), f"and all {len(ours.intents)} intents")
            check(seen["regexes"] == list(ours.regexes), "the regexes")
            check(seen["lookups"] == list(ours.lookups), "the lookup tables")
            if source == features:
                check(seen["roles"] == ["departure", "destination"], "entity roles")
                check(seen["groups"] == ["1"], "entity groups")
                check('"urgency": "high"' in seen["metadata"], "example metadata")
                check('"sentiment": "neutral"' in seen["metadata"], "intent metadata")


def main() -> int:
    report = Report()
    venv = Path(os.environ.get("RASA_CHECK_VENV", DEFAULT_VENV))
    work = Path(tempfile.mkdtemp(prefix="rasa-check-"))
    processes: list[subprocess.Popen[str]] = []
    try:
        rasa = Path()
        with report.step(f"Python 3.10 virtualenv with rasa=={RASA_VERSION}"):
            rasa = ensure_rasa(venv)
            version = subprocess.run([str(rasa), "--version"], capture_output=True, text=True)
            print("   " + version.stdout.strip().replace("\n", "\n   "))
        if report.failures:
            return report.summary()
        exports(report, rasa, work)
        # one project folder per virtualenv: Rasa's training cache (.rasa/cache) in it spares
        # retraining components whose data and settings did not change since the last run
        project = venv.parent / f"{venv.name}-assistant"
        shutil.copytree(SAMPLE, project, dirs_exist_ok=True)
        action_port, rasa_port = free_port(), free_port()
        (project / "endpoints.yml").write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        )
        with report.step("rasa train (the sample project; cached components reused)"):
            subprocess.run(
                [str(rasa), "train", "--fixed-model-name", "check", "--out", "models"],
                cwd=project,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            check((project / "models" / "check.tar.gz").exists(), "the model was trained")
        if report.failures:
            return report.summary()
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite+aiosqlite:///{work / 'helpdesk.db'}",
            "RASA_URL": rasa_url,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        actions = subprocess.Popen(
            [sys.executable, "-m", "bot", "actions", "--port", str(action_port), "--agents-here"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(work / "actions.log", "w"),  # noqa: SIM115  # closed with the process
            text=True,
        )
        processes.append(actions)
        out = Lines(actions.stdout, "[helpdesk]")
        server = subprocess.Popen(
            [
                str(rasa),
                "run",
                "--enable-api",
                "--interface",
                "127.0.0.1",
                "--port",
                str(rasa_port),
                "--model",
                "models/check.tar.gz",
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],
            cwd=project,
            stdout=open(work / "rasa.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(server)
        with report.step("start: helpdesk actions (Python 3.11) and rasa run (Python 3.10)"):
            wait_for(
                "helpdesk actions",
                lambda: httpx.get(f"http://127.0.0.1:{action_port}/health").status_code == 200,
                START_TIMEOUT,
                actions,
            )
            check(True, f"helpdesk actions answers on :{action_port}")
            wait_for(
                "rasa run",
                lambda: bool(httpx.get(f"{rasa_url}/status", timeout=10).json().get("model_file")),
                START_TIMEOUT,
                server,
            )
            status = httpx.get(f"{rasa_url}/status").json()
            version = httpx.get(f"{rasa_url}/version").json()["version"]
            check(True, f"Rasa {version} serves {status['model_file']}")
        if report.failures:
            return report.summary()
        conversation(report, rasa_url, actions, out)
        nlu_backend(report, rasa_url)
        return report.summary()
    except (subprocess.CalledProcessError, httpx.HTTPError) as exc:
        report.failures.append(f"{type(exc).__name__}: {exc}")
        return report.summary()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            if process.poll() is None:
                process.kill()
        print(f"\n   logs: {work}/actions.log, {work}/rasa.log")


if __name__ == "__main__":
    sys.exit(main())
