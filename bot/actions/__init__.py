"""Rasa custom actions: the help desk as an action server for an existing Rasa assistant.

``catalog`` holds the actions (rasa-sdk ``Action`` classes), ``turns`` runs each call through the
help desk's intake, ``transcript`` reads the conversation from Rasa's tracker, and ``server``
answers Rasa's ``POST /webhook`` (``helpdesk actions``).
"""
