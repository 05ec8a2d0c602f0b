"""The business's intents as desk content: examples and actions in the database (the source of
truth, seeded from ``<data dir>/nlu``), the trained model stored beside them, and the live model
every process serves and retrains in the background. See ``docs/intents.md``."""
