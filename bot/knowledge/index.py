"""The persisted vector index of the knowledge base.

``index_dir`` holds four files:

- ``index.faiss`` — normalised vectors (inner product = cosine): an exact ``IndexFlatIP`` below
  ``FLAT_BELOW`` vectors, an HNSW graph (approximate, recall@10 measured by
  ``helpdesk bench kb-scale``) from there on, where an exact scan gets slow;
- ``entries.json`` — one entry per vector (row order): key, chunk key, slug, title, category,
  section, text, content hash, kind (``"chunk"``, or ``"question"`` for a front-matter example
  question, which points at the article's lead chunk), as rows of the fields it names;
- ``manifest.json`` — a small header: the model name, dimension, index type and a fingerprint
  of the entries. A start reads only this: the entries it has just read from the database
  are the index's when their fingerprint is the header's, so the entry file is not parsed
  (``KnowledgeIndex.load(..., known=...)``). The previous release kept the entries inside the
  manifest; such an index is still read (``LAYOUT``);
- ``embeddings.npz`` — every vector computed so far, keyed by the sha256 of the embedded text,
  so a rebuild encodes only new or changed texts.

faiss is imported inside the functions that need it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bot.errors import HelpdeskError
from bot.knowledge.chunking import text_hash
from nlu.embedding import Embedder

if TYPE_CHECKING:
    import faiss

MANIFEST = "manifest.json"
ENTRIES = "entries.json"
# The layout of the manifest. 2: a header, the entries in ENTRIES. Its fingerprint is under
# "entries_fingerprint", not the one-file layout's "fingerprint", so a release that knows only
# that layout (1, the entries inside the manifest) finds no fingerprint and rebuilds instead of
# failing on entries it cannot find.
LAYOUT = 2
FAISS_FILE = "index.faiss"
EMBEDDINGS = "embeddings.npz"
ENCODE_BATCH = 32

# Index type by size (``helpdesk bench kb-scale``, benchmarks/results/kb-scale.json): exact
# search while a scan stays fast, an HNSW graph above. Set by HELPDESK_INDEX_FLAT_BELOW.
FLAT_BELOW = 10_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IndexKind = Literal["flat", "hnsw"]

Progress = Callable[[int, int, str], None]
"""``progress(done, total, label)``: called while a long step runs."""


class IndexUnavailable(HelpdeskError):
    """There is no usable index in the directory (never built, or damaged): run a reindex."""


@dataclass(frozen=True)
class IndexEntry:
    """One vector of the index and what it points at."""

    key: str  # "<slug>#<ordinal>" for a chunk, "<slug>?<n>" for a question
    chunk_key: str  # the chunk shown when this entry matches (itself, or the lead chunk)
    slug: str
    title: str
    category: str
    section: str
    text: str  # exactly what is embedded
    content_hash: str
    kind: Literal["chunk", "question"]


ENTRY_FIELDS = tuple(f.name for f in fields(IndexEntry))


@dataclass(frozen=True)
class KnownEntries:
    """Entries read elsewhere (the database) with their ``fingerprint``: an index whose manifest
    carries that fingerprint holds exactly these entries in this order (with this model), so
    they need not be read from its entry file."""

    entries: list[IndexEntry]
    fingerprint: str


@dataclass(frozen=True)
class IndexBuildReport:
    entries: int
    encoded: int  # texts sent to the embedder
    reused: int  # vectors taken from the embedding store
    model_name: str
    dimension: int
    index_dir: Path


def article_entries(
    *,
    slug: str,
    title: str,
    category: str,
    questions: Sequence[str],
    chunks: Sequence[tuple[int, str, str, str]],
) -> list[IndexEntry]:
    """The entries of one article; ``chunks`` are (ordinal, section, text, content_hash)."""
    entries = [
        IndexEntry(f"{slug}#{o}", f"{slug}#{o}", slug, title, category, s, t, h, "chunk")
        for o, s, t, h in sorted(chunks)
    ]
    if not entries:
        return []
    lead = entries[0]
    entries.extend(
        IndexEntry(
            f"{slug}?{n}",
            lead.key,
            slug,
            title,
            category,
            lead.section,
            q,
            text_hash(q),
            "question",
        )
        for n, q in enumerate(dict.fromkeys(q.strip() for q in questions if q.strip()))
    )
    return entries


def fingerprint(entries: Sequence[IndexEntry], model_name: str) -> str:
    """The sha256 of the model name and each entry's fields as sorted-key JSON, in order.

    Byte for byte what ``json.dumps(asdict(entry), sort_keys=True)`` gives (what every index
    so far recorded), without ``asdict``'s deep copy: the fields are flat strings.
    """
    digest = hashlib.sha256(model_name.encode())
    encode = json.JSONEncoder(sort_keys=True).encode  # what json.dumps(..., sort_keys=True) uses
    for entry in entries:
        digest.update(encode(vars(entry)).encode())
    return digest.hexdigest()


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest: the header (and, in the one-file layout, the entries too)."""
    try:
        manifest: dict[str, Any] = json.loads((index_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def entries_fingerprint(manifest: dict[str, Any]) -> str | None:
    """The fingerprint of the entries the manifest describes (None: a layout not known here)."""
    layout = manifest.get("layout", 1)
    found = manifest.get("entries_fingerprint" if layout == LAYOUT else "fingerprint")
    return found if layout in (1, LAYOUT) and isinstance(found, str) else None


def is_current(
    index_dir: Path,
    entries: Sequence[IndexEntry],
    model_name: str,
    flat_below: int = FLAT_BELOW,
    *,
    digest: str | None = None,
) -> bool:
    """Whether the index on disk was built from exactly these entries with this model, as the
    index type their count calls for (``digest``: their fingerprint, when already computed)."""
    manifest = read_manifest(index_dir)
    return (
        manifest is not None
        and (index_dir / FAISS_FILE).exists()
        and (manifest.get("layout", 1) == 1 or (index_dir / ENTRIES).exists())
        and manifest.get("model_name") == model_name
        and manifest.get("index_type", "flat") == index_kind(len(entries), flat_below)
        and entries_fingerprint(manifest) == (digest or fingerprint(entries, model_name))
    )


def build_index(
    entries: Sequence[IndexEntry],
    embedder: Embedder,
    index_dir: Path,
    *,
    progress: Progress | None = None,
    flat_below: int = FLAT_BELOW,
) -> IndexBuildReport:
    """Write the index for ``entries``, encoding only texts the embedding store lacks; exact
    below ``flat_below`` vectors, HNSW from there on."""
    index_dir.mkdir(parents=True, exist_ok=True)
    model_name = embedder.model_name
    store = _load_store(index_dir, model_name)
    hashes = [text_hash(e.text) for e in entries]
    missing = list(dict.fromkeys(h for h in hashes if h not in store))
    texts_by_hash = {h: e.text for h, e in zip(hashes, entries, strict=True)}
    for start in range(0, len(missing), ENCODE_BATCH):
        batch = missing[start : start + ENCODE_BATCH]
        vectors = embedder.encode([texts_by_hash[h] for h in batch])
        store.update(zip(batch, np.asarray(vectors, dtype=np.float32), strict=True))
        if progress:
            progress(min(start + ENCODE_BATCH, len(missing)), len(missing), "embedding articles")
    dimension = len(next(iter(store.values()))) if store else int(embedder.dimension)
    index = vector_index(entries, store, dimension, flat_below)
    write_index(index_dir, entries, index, store, model_name)
    return IndexBuildReport(
        entries=len(entries),
        encoded=len(missing),
        reused=len(set(hashes)) - len(missing),
        model_name=model_name,
        dimension=dimension,
        index_dir=index_dir,
    )


def index_kind(count: int, flat_below: int = FLAT_BELOW) -> IndexKind:
    """Exact search for ``count`` vectors below ``flat_below``, a graph from there on."""
    return "flat" if count < flat_below else "hnsw"


def vector_index(
    entries: Sequence[IndexEntry],
    vectors: dict[str, np.ndarray],
    dimension: int,
    flat_below: int = FLAT_BELOW,
) -> faiss.Index:
    """An inner-product index over the entries' vectors (keyed by text hash), in entry order:
    exact below ``flat_below`` vectors, an HNSW graph from there on."""
    hashes = [text_hash(e.text) for e in entries]
    matrix = (
        np.stack([vectors[h] for h in hashes]).astype(np.float32)
        if hashes
        else np.zeros((0, dimension), dtype=np.float32)
    )
    return new_faiss_index(matrix, index_kind(len(matrix), flat_below))


def new_faiss_index(matrix: np.ndarray, kind: IndexKind) -> faiss.Index:
    """A faiss index of ``kind`` holding ``matrix``'s rows (inner product on unit vectors)."""
    import faiss

    dimension = int(matrix.shape[1])
    index: faiss.Index
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    else:
        graph = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        graph.hnsw.efSearch = HNSW_EF_SEARCH
        index = graph
    if len(matrix):
        index.add(matrix)
    return index


def write_index(
    index_dir: Path,
    entries: Sequence[IndexEntry],
    index: faiss.Index,
    vectors: dict[str, np.ndarray],
    model_name: str,
) -> None:
    """Write the four files of the index, each atomically; the manifest last, so a reader
    that finds the manifest of these entries finds their vectors and their entry file."""
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    wanted = dict.fromkeys(text_hash(e.text) for e in entries)
    live = {h: vectors[h] for h in wanted}  # forget vectors of deleted texts
    digest = fingerprint(entries, model_name)
    _atomic(index_dir / EMBEDDINGS, lambda p: _save_store(p, live, model_name))
    _atomic(index_dir / FAISS_FILE, lambda p: faiss.write_index(index, str(p)))
    rows = {
        "fingerprint": digest,
        "fields": ENTRY_FIELDS,
        "rows": [[getattr(e, name) for name in ENTRY_FIELDS] for e in entries],
    }
    text = json.dumps(rows, ensure_ascii=False)
    _atomic(index_dir / ENTRIES, lambda p: p.write_text(text, "utf-8"))
    manifest = {
        "layout": LAYOUT,
        "model_name": model_name,
        "dimension": int(index.d),
        "index_type": "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat",
        "count": len(entries),
        "entries_fingerprint": digest,
    }
    _atomic(index_dir / MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=1), "utf-8"))


class KnowledgeIndex:
    """A loaded index: the faiss index, its entries and their vectors."""

    def __init__(
        self, *, faiss_index: faiss.Index, entries: list[IndexEntry], model_name: str
    ) -> None:
        if faiss_index.ntotal != len(entries):
            raise IndexUnavailable("index and manifest disagree; rebuild the index")
        self.faiss_index = faiss_index
        self.entries = entries
        self.model_name = model_name
        self.dimension = int(faiss_index.d)
        # reconstruct_n works on both kinds (HNSW keeps its vectors in a flat storage)
        self.vectors: np.ndarray = (
            faiss_index.reconstruct_n(0, faiss_index.ntotal)
            if faiss_index.ntotal
            else np.zeros((0, self.dimension), dtype=np.float32)
        )

    @classmethod
    def load(cls, index_dir: Path, *, known: KnownEntries | None = None) -> KnowledgeIndex:
        """The index in ``index_dir``. With ``known`` entries whose fingerprint is the
        manifest's, those are its entries and the entry file is not read (a start has just
        read them from the database and checked them with ``is_current``)."""
        import faiss

        manifest = read_manifest(index_dir)
        if manifest is None or not (index_dir / FAISS_FILE).exists():
            raise IndexUnavailable(f"no knowledge index in {index_dir}; run 'helpdesk kb reindex'")
        try:
            faiss_index = faiss.read_index(str(index_dir / FAISS_FILE))
            if known is not None and known.fingerprint == entries_fingerprint(manifest):
                entries = list(known.entries)
            else:
                entries = _read_entries(index_dir, manifest)
            if manifest.get("index_type") == "hnsw":
                graph: Any = faiss.downcast_index(faiss_index)
                graph.hnsw.efSearch = HNSW_EF_SEARCH
        except (RuntimeError, KeyError, TypeError, OSError, ValueError) as exc:
            raise IndexUnavailable(f"the knowledge index in {index_dir} is damaged: {exc}") from exc
        return cls(faiss_index=faiss_index, entries=entries, model_name=manifest["model_name"])

    def nearest(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the ``k`` entries nearest to ``vector``, best first."""
        k = min(k, len(self.entries))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        scores, rows = self.faiss_index.search(query, k)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]


def _read_entries(index_dir: Path, manifest: dict[str, Any]) -> list[IndexEntry]:
    """The entries the manifest describes: inside it (layout 1) or in the entry file."""
    if manifest.get("layout", 1) == 1:
        return [IndexEntry(**raw) for raw in manifest["entries"]]
    data = json.loads((index_dir / ENTRIES).read_text("utf-8"))
    if data["fingerprint"] != entries_fingerprint(manifest):
        raise ValueError("the entry file is not the manifest's (written while read?)")
    if tuple(data["fields"]) != ENTRY_FIELDS:
        raise ValueError(f"entry fields {data['fields']} are not {list(ENTRY_FIELDS)}")
    return [IndexEntry(*row) for row in data["rows"]]


def _load_store(index_dir: Path, model_name: str) -> dict[str, np.ndarray]:
    try:
        with np.load(index_dir / EMBEDDINGS, allow_pickle=False) as data:
            if str(data["model_name"]) != model_name:
                return {}
            return dict(zip(data["hashes"].tolist(), data["vectors"], strict=True))
    except (OSError, KeyError, ValueError):
        return {}


def _save_store(path: Path, store: dict[str, np.ndarray], model_name: str) -> None:
    hashes = np.array(list(store), dtype="U64")
    vectors = np.stack(list(store.values())) if store else np.zeros((0, 0), dtype=np.float32)
    with path.open("wb") as file:
        np.savez(file, hashes=hashes, vectors=vectors, model_name=np.array(model_name))


def _atomic(target: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file so a reader never sees half a file."""
    # a name of its own per writer: two processes of one desk may write the same index
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    write(tmp)
    os.replace(tmp, target)
