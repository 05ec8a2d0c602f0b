"""Alembic migration environment (``env.py``) and revision scripts (``versions/``).

Run them through :mod:`bot.storage.migrate` or ``helpdesk db upgrade``; there is no need for an
``alembic.ini``: the configuration is built in code, so it works from any directory.
"""
