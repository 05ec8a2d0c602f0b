"""helpdesk-bot: a chat-first help desk.

Importing this package is cheap: no torch, no database driver, no platform SDK.
"""

__version__ = "0.1.0"
