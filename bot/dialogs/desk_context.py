"""What every agent action gets: the transaction, the desk's configuration and who is acting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.commands import Role
from bot.config import DeskConfig
from bot.dialogs.roles import RoleBook
from bot.messages import Button, Inbound, Outbound
from bot.storage.uow import UnitOfWork


@dataclass(frozen=True)
class DeskContext:
    uow: UnitOfWork
    desk: DeskConfig
    roles: RoleBook
    inbound: Inbound

    @property
    def agent(self) -> str:
        """The acting agent as stored on cases: "platform:user-id"."""
        return f"{self.inbound.platform}:{self.inbound.user_id}"

    @property
    def name(self) -> str:
        return self.inbound.user_name or self.inbound.user_id

    def has(self, role: Role) -> bool:
        inbound = self.inbound
        return self.roles.has(role, inbound.platform, inbound.user_id, frozenset(inbound.groups))

    def answer(self, text: str, buttons: Sequence[Button] = ()) -> None:
        """Answer the agent where they wrote (the case thread, or the queue channel)."""
        self.uow.send(Outbound(channel=self.inbound.channel, text=text, buttons=tuple(buttons)))

    def answer_privately(self, text: str) -> None:
        """Answer only the person who acted (a refusal is nobody else's business): the
        platform's private answer to their click or command, else a direct message."""
        self.uow.send(
            Outbound(
                channel=self.inbound.channel,
                text=text,
                private_to=self.inbound.user_id,
                reply_token=self.inbound.reply_token,
            )
        )
