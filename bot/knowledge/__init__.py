"""The knowledge base: articles (Markdown + front matter), their import into the database, a
persisted faiss index of their chunks and example questions, and hybrid search over it.

Modules import faiss, bm25s and the embedding model lazily, so importing this package is cheap.
"""
