"""``helpdesk chat``: the whole help desk in one terminal, on the embedded defaults."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from bot.adapters.console import DEFAULT_AGENT_NAME, DEFAULT_CUSTOMER_NAME

if TYPE_CHECKING:
    from bot.dialogs.understanding import LoadingUnderstander

# login names that are roles, not people: "Hi Root, this is Sam" reads wrong
_ACCOUNT_NAMES = {"root", "admin", "administrator", "user", "ubuntu", "debian", "guest", "app"}


def default_customer_name() -> str:
    """The person at the keyboard: the first name from the account's full name, else the login
    name when it looks like a name, else a neutral first name."""
    import getpass

    try:
        login = getpass.getuser()
    except Exception:  # no user database entry (some containers): use the neutral name
        return DEFAULT_CUSTOMER_NAME
    full_name = _full_name(login)
    if full_name:
        return full_name.split()[0]
    if login.isalpha() and login.lower() not in _ACCOUNT_NAMES:
        return login.capitalize()
    return DEFAULT_CUSTOMER_NAME


def _full_name(login: str) -> str:
    try:
        import pwd

        gecos = pwd.getpwnam(login).pw_gecos.split(",")[0].strip()
    except (ImportError, KeyError):  # Windows, or an account without an entry
        return ""
    return gecos if gecos and gecos.lower() not in _ACCOUNT_NAMES else ""


def chat(
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            help="Feed lines from FILE: customer messages, '/agent …' commands, "
            "bare numbers pick choices.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    name: Annotated[
        str | None,
        typer.Option(help="Your name as the customer [default: your first name on this computer]."),
    ] = None,
    agent_name: Annotated[
        str, typer.Option(help="Your name when you act as an agent.")
    ] = DEFAULT_AGENT_NAME,
) -> None:
    """Chat with the help desk in the terminal (you can play the agent too: '/agent claim 1')."""
    from bot.config import Settings

    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    lines = script.read_text(encoding="utf-8", errors="replace").splitlines() if script else None
    customer = (name or "").strip() or default_customer_name()
    try:
        asyncio.run(
            _chat_and_leave(settings, lines, quiet=quiet, names=(customer, agent_name.strip()))
        )
    except KeyboardInterrupt:  # Ctrl-C before the chat began, or a second one while it closed
        typer.echo("")
        _leave(130)


async def _chat_and_leave(
    settings: object, lines: list[str] | None, *, quiet: bool, names: tuple[str, str]
) -> NoReturn:
    """The chat, then the end of the process from inside the loop. Ctrl-C cancels the chat (its
    clean-up runs) and leaves at once, like /quit. Once the chat has closed what it opened,
    nothing else is waited for: ``asyncio.run`` would cancel every task still left and wait
    for each to end, and a full run of the Ctrl-C tests once hung right there."""
    try:
        await _chat(settings, lines, quiet=quiet, names=names)
    except asyncio.CancelledError:  # Ctrl-C (see _leave_on_ctrl_c)
        typer.echo("")
        _leave(130)
    _leave(0)


def _leave(code: int) -> NoReturn:
    """End the process now that the chat has closed what it opened (the database included).

    The interpreter's own exit would first wait for every thread that is not a daemon (a
    database connection that a cancelled task never closed keeps one until it is collected),
    then walk every object of a thousand modules in several full collections (0.3–0.5 s of a
    one-question chat), then run the native libraries' destructors, which abort the process
    when the encoder's runtime is still building its session in the background (a chat left
    within a second of its start). The exit handlers still run; the rest is the operating
    system's to reclaim, as it is for every abandoned load (see ``DaemonThreads``)."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def _chat(
    settings: object, lines: list[str] | None, *, quiet: bool, names: tuple[str, str]
) -> None:
    from bot.adapters.console import ConsoleChannel
    from bot.bootstrap import build_helpdesk, start_scheduler
    from bot.cli.database import ready_database
    from bot.cli.progress import progress_reporter
    from bot.config import Settings, load_desk_config
    from bot.dialogs.replies import TERMINAL_AGENT_HELP
    from bot.messages import Inbound
    from nlu.training_data import load_training_data

    assert isinstance(settings, Settings)
    _leave_on_ctrl_c()
    # the models load in the background; a chat that ends meanwhile (/quit, Ctrl-C) must not
    # wait for that load's thread (see DaemonThreads)
    asyncio.get_running_loop().set_default_executor(DaemonThreads())
    customer_name, agent_name = names
    console = ConsoleChannel(
        lines=lines,
        customer_name=customer_name,
        agent_name=agent_name or DEFAULT_AGENT_NAME,
        local_help=TERMINAL_AGENT_HELP,
    )
    # the quick checks first: a broken file or database is reported before the model loads
    desk = load_desk_config(settings.desk_config_file)
    await ready_database(settings.effective_database_url)
    await asyncio.to_thread(load_training_data, settings.nlu_sources)  # readable, or named
    # the models load in the background while the prompt waits for the first line; a line
    # typed before they are ready waits for them (it never starts a load of its own)
    with progress_reporter(quiet, lines=True) as progress:
        helpdesk = await build_helpdesk(
            settings,
            channels={"terminal": console},
            desk=desk,
            progress=progress,
            load_in_background=True,
        )
    retries = asyncio.create_task(helpdesk.intake.run())  # failed lines are tried again
    checks = None
    try:
        # the SLA ladder and desk upkeep, as the scheduler runs them (no digests from a terminal)
        checks = await start_scheduler(helpdesk, digests=False)
        await helpdesk.intake.recover()
        await helpdesk.sender.drain()
        if lines is None:
            print(
                f"Type your question, {customer_name} (/help for commands, /agent … to act as "
                f"{agent_name} from the team, /quit or Ctrl-C to leave)."
            )

        async def on_inbound(inbound: Inbound) -> None:
            await helpdesk.intake.receive(inbound)
            await helpdesk.sender.drain()

        await console.start(on_inbound)
        await _until_finished(console.finished, helpdesk.loading)
        await helpdesk.sender.drain()
    finally:
        if checks is not None:
            checks.shutdown()
        await console.stop()
        helpdesk.intake.stop()
        await asyncio.gather(retries, return_exceptions=True)
        await helpdesk.close()


def _leave_on_ctrl_c() -> None:
    """Ctrl-C cancels the chat (its clean-up runs, then the command exits with 130); a second
    one stops waiting for the clean-up.

    The loop takes the signal itself rather than leaving it to ``asyncio.run``'s handler: the
    kernel may hand a terminal's Ctrl-C to any of the process's threads (the prompt's reader,
    the database's workers), and a handler that only runs when the main thread next wakes
    would wait for the chat's next timer, minutes away. The loop's handler is woken through
    its own pipe from whichever thread the signal lands on."""
    loop = asyncio.get_running_loop()
    chat_task = asyncio.current_task()
    assert chat_task is not None
    pressed = False

    def on_ctrl_c() -> None:
        nonlocal pressed
        if pressed:
            raise KeyboardInterrupt  # out of the loop: no more waiting for the clean-up
        pressed = True
        chat_task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_ctrl_c)
    except (NotImplementedError, RuntimeError):  # Windows' loops; not the main thread
        return


async def _until_finished(finished: asyncio.Event, loading: LoadingUnderstander | None) -> None:
    """Wait for the end of the chat; a load that fails ends it with its error at once rather
    than on the first message."""
    ending = asyncio.create_task(finished.wait())
    waits: list[asyncio.Future[Any]] = [ending]
    if loading is not None:
        waits.append(asyncio.ensure_future(loading.ready()))
    done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    if ending not in done:
        waits[1].result()  # raises the load's error
        await ending
    for wait in waits:
        wait.cancel()


class DaemonThreads(ThreadPoolExecutor):
    """Runs each blocking call in a daemon thread of its own, so leaving the chat never waits
    for one: a model still training or an encoder still exporting in the background when the
    person quits is abandoned, not awaited. That is safe because every file they write is
    written to a temporary name and renamed, and every row in a transaction — an abandoned
    load leaves nothing half-done, and the next start does it again."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to whoever awaits the call
                future.set_exception(exc)

        threading.Thread(target=run, name="chat-blocking-call", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: the threads are daemons, and each ends with its call."""
