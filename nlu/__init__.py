"""Natural-language understanding for the help desk: Rasa-format training data, a sentence
embedding seam, an intent classifier with out-of-scope detection, and entity extractors.

This package never imports ``bot``; heavy libraries (torch, sentence-transformers) are imported
lazily, only when a model is actually loaded.
"""
