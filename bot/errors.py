"""The help desk's exceptions.

::

    HelpdeskError                 base of everything raised on purpose
    ├── ConfigError               settings or helpdesk.yml are invalid (names the key)
    ├── DatabaseUnavailable       the configured database cannot be opened or migrated
    ├── UserFacingError           carries ``safe_message``: the only error text a person may see
    │   ├── PermissionDenied      an agent/admin action from someone without the role
    │   ├── NotFound              no such case / article / macro
    │   └── InvalidCommand        unknown verb or malformed arguments
    ├── ClaimConflict             the case is already claimed (``holder`` says by whom)
    └── SendError                 a platform refused or failed a send (raised by adapters)
        ├── RetryableSendError    try again later (``retry_after`` seconds if the platform said)
        └── PermanentSendError    never retry (channel gone, bot blocked, bad request);
                                  ``recipient_gone`` when the person blocked the bot

Customers never see exception text: boundaries log the traceback and reply with a kind sentence.
"""

from __future__ import annotations


class HelpdeskError(Exception):
    """Base class for errors raised on purpose by the help desk."""


class ConfigError(HelpdeskError):
    """Settings or helpdesk.yml are invalid; the message names the key."""


class DatabaseUnavailable(HelpdeskError):
    """The database at ``DATABASE_URL`` cannot be reached, opened or brought to the current
    schema; the message names the URL (never its password) and the reason."""


class UserFacingError(HelpdeskError):
    """An error whose ``safe_message`` may be shown to the person who caused it."""

    def __init__(self, safe_message: str) -> None:
        super().__init__(safe_message)
        self.safe_message = safe_message


class PermissionDenied(UserFacingError):
    pass


class NotFound(UserFacingError):
    pass


class InvalidCommand(UserFacingError):
    pass


class ClaimConflict(HelpdeskError):
    def __init__(self, case_number: int, holder: str) -> None:
        super().__init__(f"case #{case_number} is already claimed by {holder}")
        self.case_number = case_number
        self.holder = holder


class SendError(HelpdeskError):
    """A platform send failed."""


class RetryableSendError(SendError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Never retry. ``recipient_gone`` says the person can no longer be reached there at all
    (they blocked the bot, deleted the chat): the conversation is marked and later messages to
    it are parked without trying."""

    def __init__(self, message: str, *, recipient_gone: bool = False) -> None:
        super().__init__(message)
        self.recipient_gone = recipient_gone
