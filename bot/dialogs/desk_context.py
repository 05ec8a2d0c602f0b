"""What every agent action gets: the transaction, the desk's configuration and who is acting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.commands import Role
from bot.config import DeskConfig
from bot.dialogs.notify import private_handle
from bot.dialogs.roles import RoleBook
from bot.messages import Button, Inbound, Outbound
from bot.reports.gaps import Encoder
from bot.storage.uow import UnitOfWork
from bot.text import clean_name


@dataclass(frozen=True)
class DeskContext:
    uow: UnitOfWork
    desk: DeskConfig
    roles: RoleBook
    inbound: Inbound
    encoder: Encoder | None = None  # the bot's sentence encoder (knowledge gaps group by it)

    @property
    def agent(self) -> str:
        """The acting agent as stored on cases: "platform:user-id"."""
        return f"{self.inbound.platform}:{self.inbound.user_id}"

    @property
    def name(self) -> str:
        """The agent's name as stored on cases and shown to customers: cleaned and bounded."""
        return clean_name(self.inbound.user_name) or clean_name(self.inbound.user_id)

    def has(self, role: Role) -> bool:
        inbound = self.inbound
        return self.roles.has(role, inbound.platform, inbound.user_id, frozenset(inbound.groups))

    def answer(self, text: str, buttons: Sequence[Button] = ()) -> None:
        """Answer the agent where they wrote (the case thread, or the queue channel); what a
        slash command asked is answered to its sender only."""
        private_to, token = private_handle(self.inbound, commands_only=True)
        self.uow.send(
            Outbound(
                channel=self.inbound.channel,
                text=text,
                buttons=tuple(buttons),
                private_to=private_to,
                reply_token=token,
            )
        )

    def refuse(self, text: str) -> None:
        """A refusal (not an agent, already claimed, a mistyped command): only the person who
        tried sees it, never the whole channel."""
        private_to, token = private_handle(self.inbound)
        self.uow.send(
            Outbound(
                channel=self.inbound.channel, text=text, private_to=private_to, reply_token=token
            )
        )
