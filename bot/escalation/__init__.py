"""Escalation: which queue (and so which agent channel) a case goes to."""
