"""Who is who on Slack: display names (``users.info``) and user-group membership
(``usergroups.users.list``), cached so a busy channel costs a handful of API calls, not one per
message. A look-up Slack refuses (``user_not_found``, a missing scope) degrades — the user id as
name, no groups — and is logged; one Slack cannot answer now (HTTP 429 or 5xx) raises
``LookupUnavailable`` where nothing is cached, so the message is handled later, by the inbox's
retry rules, rather than under a wrong name or without its sender's groups."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock

logger = logging.getLogger(__name__)

CACHE_TTL = timedelta(minutes=10)


class LookupUnavailable(Exception):
    """Slack could not answer a look-up just now (rate limited, or failing): try again later."""


def _temporary(exc: SlackApiError) -> bool:
    status = exc.response.status_code
    return status == 429 or status >= 500


class SlackDirectory:
    def __init__(self, *, client: AsyncWebClient, clock: Clock, groups: Iterable[str] = ()) -> None:
        self._client = client
        self._clock = clock
        self._groups = tuple(dict.fromkeys(groups))  # the user groups named in the roles
        self._names: dict[str, tuple[str, datetime]] = {}
        self._members: dict[str, tuple[frozenset[str], datetime]] = {}

    def _fresh(self, stamp: datetime) -> bool:
        return self._clock.now() - stamp < CACHE_TTL

    async def display_name(self, user_id: str) -> str:
        cached = self._names.get(user_id)
        if cached and self._fresh(cached[1]):
            return cached[0]
        name = user_id
        try:
            response = await self._client.users_info(user=user_id)
            user = response.get("user") or {}
            profile = user.get("profile") or {}
            name = (
                profile.get("display_name")
                or profile.get("real_name")
                or user.get("real_name")
                or user.get("name")
                or user_id
            )
        except SlackApiError as exc:
            if _temporary(exc):
                if cached:  # a stale name beats waiting
                    return cached[0]
                raise LookupUnavailable(f"users.info: {_error_of(exc)}") from exc
            logger.warning("users.info %s failed: %s", user_id, _error_of(exc))
            return name  # not cached: the next message tries again
        self._names[user_id] = (name, self._clock.now())
        return name

    async def groups_of(self, user_id: str) -> tuple[str, ...]:
        """The configured user groups (``S…`` ids) this user belongs to."""
        found = []
        for group in self._groups:
            if user_id in await self._members_of(group):
                found.append(group)
        return tuple(found)

    async def _members_of(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached and self._fresh(cached[1]):
            return cached[0]
        try:
            response = await self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            if cached:
                return cached[0]
            if _temporary(exc):
                raise LookupUnavailable(f"usergroups.users.list: {_error_of(exc)}") from exc
            logger.warning("usergroups.users.list %s failed: %s", group, _error_of(exc))
            return frozenset()
        members = frozenset(str(u) for u in response.get("users") or ())
        self._members[group] = (members, self._clock.now())
        return members


def _error_of(exc: SlackApiError) -> str:
    """Slack's error code, or the HTTP status where the answer was not Slack's JSON."""
    data = exc.response.data
    if isinstance(data, dict):
        return str(data.get("error"))
    return f"HTTP {exc.response.status_code}"
