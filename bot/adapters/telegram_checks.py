"""Start-up checks of the agent groups: can the bot see what agents write, and open a topic per
case? Problems are returned as sentences for the log (they never stop the customer side)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, ChatMemberAdministrator, ChatMemberBanned, ChatMemberLeft, ChatMemberOwner
from telegram.error import TelegramError


@dataclass(frozen=True)
class GroupStatus:
    chat_id: str
    reachable: bool = False
    is_forum: bool = False
    is_admin: bool = False
    can_manage_topics: bool = False

    def problems(self, can_read_all_group_messages: bool) -> list[str]:
        where = f"agent group {self.chat_id}"
        if not self.reachable:
            return [
                f"{where}: the bot cannot open it — add the bot to the group and check the "
                "chat id in helpdesk.yml (supergroup ids start with -100)"
            ]
        problems = []
        if not self.is_admin and not can_read_all_group_messages:
            problems.append(
                f"{where}: the bot is not an admin and privacy mode is on, so it sees only "
                "commands and replies to its own messages — internal notes will be missed. "
                "Make it an admin, or turn privacy mode off in @BotFather (/setprivacy)"
            )
        if self.is_forum and not self.can_manage_topics:
            problems.append(
                f"{where}: the group has topics but the bot may not manage them, so cases "
                "are posted in General instead of a topic each. Give it the 'Manage topics' "
                "admin right"
            )
        if not self.is_forum:
            problems.append(
                f"{where}: topics are off, so each case's thread is the reply chain of its "
                "escalation post (turn on Topics in the group settings for a topic per case)"
            )
        return problems


async def check_group(bot: Bot, chat_id: str) -> GroupStatus:
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError:
        return GroupStatus(chat_id)
    if isinstance(member, ChatMemberLeft | ChatMemberBanned):  # removed from the group
        return GroupStatus(chat_id)
    is_admin = isinstance(member, ChatMemberAdministrator | ChatMemberOwner)
    can_manage_topics = isinstance(member, ChatMemberOwner) or bool(
        isinstance(member, ChatMemberAdministrator) and member.can_manage_topics
    )
    return GroupStatus(
        chat_id,
        reachable=True,
        is_forum=bool(chat.is_forum),
        is_admin=is_admin,
        can_manage_topics=can_manage_topics,
    )
