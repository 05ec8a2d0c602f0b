"""Dialogs: the persisted conversation state machine (pure ``decide``) and the engine that does
its I/O, plus the agents' command desk."""
