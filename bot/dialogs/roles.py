"""Who may do what: roles per platform from helpdesk.yml (user ids, or ``group:<id>`` entries
that adapters resolve when they report a user's groups)."""

from __future__ import annotations

from bot.commands import Role
from bot.config import RoleMembers, Roles


class RoleBook:
    def __init__(self, roles: Roles) -> None:
        self._roles = roles

    def has(
        self, role: Role, platform: str, user_id: str, groups: frozenset[str] = frozenset()
    ) -> bool:
        if role == Role.CUSTOMER:
            return True
        members = {
            Role.AGENT: self._roles.agents,
            Role.MANAGER: self._roles.managers,
            Role.ADMIN: self._roles.admins,
        }[role]
        return listed(members, platform, user_id, groups)


def listed(
    members: RoleMembers, platform: str, user_id: str, groups: frozenset[str] = frozenset()
) -> bool:
    """``user_id`` (or one of their ``groups``) is among ``members`` on ``platform``."""
    ids = members.for_platform(platform)
    if user_id in ids:
        return True
    return any(f"group:{group}" in ids for group in groups)
