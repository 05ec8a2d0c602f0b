"""Cases: opening, the transcript, status changes, and customers' identities."""
