"""Who may see the dashboard: the managers and admins of helpdesk.yml, checked at every request.

The roles are read again when helpdesk.yml changes on disk (its modification time), so a
manager taken out of the file loses access at their next request, with no restart. A file that
no longer validates is logged and the roles read last stay in force."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.commands import Role
from bot.config import Roles, load_desk_config
from bot.dialogs.roles import RoleBook
from bot.errors import ConfigError

logger = logging.getLogger(__name__)


class DashboardAccess:
    def __init__(self, roles: Roles, config_file: Path | None = None) -> None:
        self._book = RoleBook(roles)
        self._file = config_file
        self._stamp = self._mtime()

    def _mtime(self) -> int | None:
        if self._file is None:
            return None
        try:
            return self._file.stat().st_mtime_ns
        except OSError:
            return None

    def _refresh(self) -> None:
        stamp = self._mtime()
        if stamp is None or stamp == self._stamp:
            return
        self._stamp = stamp
        assert self._file is not None
        try:
            self._book = RoleBook(load_desk_config(self._file).roles)
        except ConfigError as error:
            logger.warning("dashboard: %s; keeping the roles read before", error)

    def may_view(self, person: str) -> bool:
        """Whether ``person`` ("platform:user-id") is a manager or an admin now."""
        self._refresh()
        platform, _, user_id = person.partition(":")
        if not platform or not user_id:
            return False
        return self._book.has(Role.MANAGER, platform, user_id) or self._book.has(
            Role.ADMIN, platform, user_id
        )
