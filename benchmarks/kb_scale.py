"""Knowledge bases of real size: import, index size, search latency and recall, by index type.

    helpdesk bench kb-scale [--articles 10000] [--vectors 100000 ...]

**The articles.** Generated from public FAQ data (StackFAQ's 719 question–answer pairs and
CovidFAQ's 67 answers, ``HELPDESK_DATASETS_DIR``): article *k* combines two different entries
*a* and *b* of a seeded list of pairs — title and lead from *a* (with a "See also" line naming
*b*), a second section with *b*'s question and answer (and a line naming *a*). Every chunk text
is distinct, so every chunk is encoded, as a real knowledge base of that size would be.

**Import** goes through the product's path: the Markdown files are read and chunked by the
importer's reader, turned into index entries by ``article_entries``, encoded by the real encoder
(``HELPDESK_ENCODER``, ONNX by default) and indexed by ``build_index`` (the index type chosen
by size), then loaded by ``KnowledgeSearch.load`` (``load_s``, what ``helpdesk kb search`` does)
and as a serving process's start loads it once it has read the entries from the database
(``start_s``: fingerprint, the manifest's header, the index with those entries); each step
timed.

**Search** uses the StackFAQ and CovidFAQ queries (encoded once, cached): latency of one query
through ``KnowledgeSearch.search_vector`` (dense + BM25, what a message runs), and of the faiss
index alone; recall@10 of each index type against exact search (``IndexFlatIP``) on the same
vectors: the share of the exact top 10 the index returns.

**Sizes too big to encode here** (``--articles``): encoding is the import's cost and it is
linear in the chunks (``encoded_texts_per_s`` of the encoded import gives it); 10,000 articles
(about 20,000 chunks of FAQ answers, up to the encoder's 256-token window) take hours on the
shared 2 cores. So the first, smaller import (``--encoded-articles``) encodes every chunk, and
the bigger ones go through the same path with their vectors composed from its real ones (each
the normalised sum of three random real vectors) and put in the index's embedding store first,
so nothing is encoded: reading, chunking, index building, the files and the search are
measured at full size; encoding is not. Speed depends on the count and dimension; recall
depends on how vectors cluster, which such sums keep only roughly, so recall there is
indicative.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets import load_covidfaq, load_stackfaq
from benchmarks.retrieval import directory_entries
from benchmarks.vectors import cached_vectors
from bot.knowledge.chunking import text_hash
from bot.knowledge.index import (
    EMBEDDINGS,
    ENTRIES,
    FAISS_FILE,
    MANIFEST,
    IndexEntry,
    IndexKind,
    KnownEntries,
    build_index,
    fingerprint,
    index_kind,
    is_current,
    new_faiss_index,
)
from nlu.embedding import Embedder

Progress = Callable[[str], None]
KINDS: tuple[IndexKind, ...] = ("flat", "hnsw")
QUERY_SAMPLE = 300


def faq_pieces(root: Path) -> list[tuple[str, str]]:
    """(question, answer) of every StackFAQ answer and CovidFAQ entry."""
    pieces = []
    with (root / "stackfaq" / "corpus_qa.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            pieces.append((" ".join(str(row["title"]).split()), str(row["text"]).strip()))
    for doc in load_covidfaq(root).documents:
        pieces.append((" ".join(doc.title.split()), doc.text.strip()))
    return [(q, a) for q, a in pieces if q and a]


def generated_articles(pieces: Sequence[tuple[str, str]], count: int, seed: int = 0) -> list[str]:
    """``count`` Markdown articles, each from a distinct pair of different FAQ entries."""
    rng = random.Random(seed)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < count:
        a, b = rng.randrange(len(pieces)), rng.randrange(len(pieces))
        if a != b:
            pairs.add((a, b))
    articles = []
    for a, b in sorted(pairs, key=lambda p: rng.random()):
        (qa, aa), (qb, ab) = pieces[a], pieces[b]
        title = qa.replace('"', "'")
        articles.append(
            f'---\ntitle: "{title}"\n---\n{aa}\n\nSee also: {qb}\n\n## {qb}\n\n{ab}\n\n'
            f"Related: {qa}\n"
        )
    return articles


def queries(root: Path) -> list[str]:
    texts = [q.text for q in load_stackfaq(root).queries] + [
        q.text for q in load_covidfaq(root).queries
    ]
    return list(dict.fromkeys(texts))


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": round(at(0.5) * 1000, 3), "p99": round(at(0.99) * 1000, 3)}


def compare_kinds(
    matrix: np.ndarray, query_vectors: np.ndarray, built_by_import: Any = None
) -> dict[str, Any]:
    """Each index type on ``matrix``: build time, size, one-query latency, recall@10 against
    exact search. ``built_by_import``: the import's own faiss index, used for its type (its
    build time is then part of the import's)."""
    import faiss

    exact = new_faiss_index(matrix, "flat")
    _, truth = exact.search(query_vectors, 10)
    out: dict[str, Any] = {"vectors": len(matrix)}
    own = faiss.downcast_index(built_by_import) if built_by_import is not None else None
    for kind in KINDS:
        started = time.perf_counter()
        if kind == "flat":
            index = exact
        elif isinstance(own, faiss.IndexHNSWFlat):
            index = own
        else:
            index = new_faiss_index(matrix, kind)
        built = time.perf_counter() - started
        _, found = index.search(query_vectors, 10)
        recall = float(
            np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        )
        singles = []
        for vector in query_vectors:
            started = time.perf_counter()
            index.search(vector.reshape(1, -1), 10)
            singles.append(time.perf_counter() - started)
        out[kind] = {
            "build_s": round(built, 2) if index is not own and kind != "flat" else None,
            "bytes": int(faiss.serialize_index(index).nbytes),
            "search_ms": percentiles_ms(singles),
            "recall_at_10": round(recall, 4),
        }
    return out


def composed(real: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``count`` unit vectors, each the normalised sum of three random rows of ``real`` (three,
    so that even a few thousand real vectors give far more distinct sums than are needed)."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, real.shape[1]), dtype=np.float32)
    for start in range(0, count, 50_000):
        n = min(50_000, count - start)
        rows = sum(real[rng.integers(0, len(real), n)] for _ in range(3))
        out[start : start + n] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def import_articles(
    articles: Sequence[str],
    embedder: Embedder,
    work: Path,
    flat_below: int,
    stand_in: np.ndarray | None = None,
) -> tuple[dict[str, Any], np.ndarray, Any]:
    """The product's import path on ``articles``: figures, the index's vectors, the search.
    ``stand_in``: real vectors to compose the chunks' vectors from, put in the index's
    embedding store first so that nothing is encoded (sizes too big to encode here)."""
    from bot.knowledge.index import _save_store
    from bot.knowledge.search import KnowledgeSearch

    source, index_dir = work / "articles", work / "index"
    source.mkdir(parents=True)
    for n, text in enumerate(articles):
        (source / f"faq-{n:06d}.md").write_text(text, encoding="utf-8")
    started = time.perf_counter()
    entries = directory_entries(source)
    read = time.perf_counter() - started
    if stand_in is not None:
        index_dir.mkdir()
        hashes = list(dict.fromkeys(text_hash(e.text) for e in entries))
        vectors = composed(stand_in, len(hashes))
        _save_store(
            index_dir / EMBEDDINGS, dict(zip(hashes, vectors, strict=True)), embedder.model_name
        )
    started = time.perf_counter()
    report = build_index(entries, embedder, index_dir, flat_below=flat_below)
    indexed = time.perf_counter() - started
    started = time.perf_counter()
    search = KnowledgeSearch.load(index_dir)
    loaded = time.perf_counter() - started
    loaded_entries = search.index.entries
    del search  # one loaded search at a time (at 100,000 articles, hundreds of MB each)
    started = time.perf_counter()
    search = serving_start(index_dir, entries, embedder.model_name, flat_below)
    start = time.perf_counter() - started
    if search.index.entries != loaded_entries:
        raise AssertionError("a start and a load disagree on the entries")
    del loaded_entries
    files = (FAISS_FILE, MANIFEST, ENTRIES, EMBEDDINGS)
    sizes = {name: (index_dir / name).stat().st_size for name in files}
    figures = {
        "articles": len(articles),
        "index_entries": report.entries,
        "encoded_texts": report.encoded,
        "vectors": "composed from real chunk vectors" if stand_in is not None else "encoded",
        "index_type": index_kind(report.entries, flat_below),
        "read_and_chunk_s": round(read, 1),
        "encode_and_index_s": round(indexed, 1),
        "load_s": round(loaded, 2),
        "start_s": round(start, 2),
        "import_total_s": round(read + indexed + loaded, 1),
        "encoded_texts_per_s": round(report.encoded / indexed, 1) if indexed else None,
        "on_disk_mb": {name: round(size / 1e6, 1) for name, size in sizes.items()},
    }
    return figures, np.asarray(search.index.vectors, dtype=np.float32), search


def serving_start(
    index_dir: Path, entries: Sequence[IndexEntry], model_name: str, flat_below: int
) -> Any:
    """What a serving process's start does once it has read the articles' entries from the
    database (``ensure_ready`` and ``live_knowledge``): fingerprint them, check the index's
    header, load the index serving them."""
    from bot.knowledge.search import KnowledgeSearch

    known = KnownEntries(list(entries), fingerprint(entries, model_name))
    if not is_current(index_dir, entries, model_name, flat_below, digest=known.fingerprint):
        raise AssertionError("the index just built is not current")
    return KnowledgeSearch.load(index_dir, known=known)


def product_search_ms(search: Any, texts: Sequence[str], vectors: np.ndarray) -> dict[str, float]:
    singles = []
    for text, vector in zip(texts, vectors, strict=True):
        started = time.perf_counter()
        search.search_vector(text, vector, 3)
        singles.append(time.perf_counter() - started)
    return percentiles_ms(singles)


def run_kb_scale(
    *,
    datasets: Path,
    embedder: Embedder,
    encoded_articles: int,
    article_counts: Sequence[int],
    flat_below: int,
    progress: Progress = lambda _: None,
    checkpoint: Callable[[dict[str, Any]], object] = lambda _: None,
) -> dict[str, Any]:
    """Every size in turn; ``checkpoint`` gets the document after each (a long run that is
    stopped keeps what it measured)."""
    pieces = faq_pieces(datasets)
    texts = queries(datasets)
    sample = random.Random(0).sample(texts, min(QUERY_SAMPLE, len(texts)))
    progress(f"encoding {len(sample)} queries (cached)")
    query_vectors = cached_vectors("kb-scale-queries", sample, embedder).astype(np.float32)
    document: dict[str, Any] = {
        "pieces": len(pieces),
        "queries": len(sample),
        "flat_below": flat_below,
        "encoder": type(embedder).__name__,
        "imports": [],
        "index_types": [],
    }
    real: np.ndarray | None = None
    for count, encode in [(encoded_articles, True), *((n, False) for n in article_counts)]:
        with tempfile.TemporaryDirectory(prefix="kb-scale-") as tmp:
            how = "encoding every chunk" if encode else "vectors composed from the encoded ones"
            progress(f"importing {count} generated articles ({how})")
            figures, vectors, search = import_articles(
                generated_articles(pieces, count, seed=count),
                embedder,
                Path(tmp),
                flat_below,
                stand_in=None if encode else real,
            )
            if encode:
                real = vectors
            progress(f"searching {len(sample)} queries, and flat against HNSW")
            figures["product_search_ms"] = product_search_ms(search, sample, query_vectors)
            document["imports"].append(figures)
            document["index_types"].append(
                {
                    "articles": count,
                    **compare_kinds(vectors, query_vectors, search.index.faiss_index),
                }
            )
            del search
            checkpoint(document)
    return document


def summary(document: dict[str, Any]) -> list[str]:
    lines = []
    for imp, row in zip(document["imports"], document["index_types"], strict=True):
        search = imp["product_search_ms"]
        lines.append(
            f"{imp['articles']:>7} articles, {imp['index_entries']} vectors ({imp['vectors']}),"
            f" {imp['index_type']}: import {imp['import_total_s']} s, load {imp['load_s']} s,"
            f" start {imp.get('start_s')} s, on disk {imp['on_disk_mb']},"
            f" search p50 {search['p50']} ms p99 {search['p99']} ms"
        )
        for kind in KINDS:
            figures = row[kind]
            lines.append(
                f"    {kind}: faiss p50 {figures['search_ms']['p50']} ms"
                f" p99 {figures['search_ms']['p99']} ms, recall@10 {figures['recall_at_10']},"
                f" {figures['bytes'] / 1e6:.0f} MB, built in {figures['build_s']} s"
            )
    return lines
