"""The bot token scopes the Slack adapter's calls and events need (``helpdesk doctor`` compares
them with what the token was granted). Keep this beside the calls: a new Web API call or event
subscription adds its scope here."""

from __future__ import annotations

# scope -> what the adapter does with it
REQUIRED_SCOPES: dict[str, str] = {
    "chat:write": "post and edit messages (chat.postMessage, chat.update, chat.postEphemeral)",
    "im:write": "open a DM for a private answer (conversations.open)",
    "im:history": "receive customers' direct messages (message.im events)",
    "channels:history": "receive messages in public agent channels (message.channels events)",
    "app_mentions:read": "receive @mentions (app_mention events)",
    "commands": "the /helpdesk command",
    "users:read": "the sender's name (users.info)",
    "files:write": "attach digest charts (files.getUploadURLExternal)",
}
# needed only in some set-ups
PRIVATE_CHANNEL_SCOPE = ("groups:history", "receive messages in private agent channels")
USERGROUP_SCOPE = ("usergroups:read", "roles given to a user group (usergroups.users.list)")
# what the doctor itself calls to see whether the bot is in a channel (conversations.info)
CHANNEL_INFO_SCOPES = {"C": "channels:read", "G": "groups:read"}
