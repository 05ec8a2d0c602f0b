"""Knowledge search with the real all-MiniLM-L6-v2 model over a few small articles."""

from __future__ import annotations

import json

import pytest

from bot.knowledge.articles import parse_article
from bot.knowledge.index import IndexEntry, article_entries, build_index
from bot.knowledge.search import KnowledgeSearch
from nlu.embedding import CachingEmbedder, SentenceTransformerEmbedder

pytestmark = pytest.mark.model

ARTICLES = {
    "reset-password": (
        "Resetting your password",
        "account",
        ["I can't sign in", "how do I change my password"],
        "Click **Forgot password?** on the sign-in page and enter your email address. We send a "
        "reset link that works for one hour.\n\n## The reset email does not arrive\n\n"
        "Check your spam folder and make sure you typed the address you signed up with.",
    ),
    "shipping-times": (
        "Shipping times",
        "orders",
        ["when will my order arrive"],
        "Standard shipping takes 3 to 5 business days. Express shipping arrives in 1 to 2 "
        "business days.\n\n## International orders\n\nInternational parcels take 7 to 14 days "
        "depending on customs.",
    ),
    "refunds": (
        "Refunds and returns",
        "billing",
        ["can I get my money back"],
        "Return any item within 30 days for a full refund to your original payment method.",
    ),
    "dark-mode": (
        "Turning on dark mode",
        "app",
        [],
        "Open Settings, then Appearance, and choose Dark.",
    ),
}


@pytest.fixture(scope="session")
def embedder() -> CachingEmbedder:
    return CachingEmbedder(SentenceTransformerEmbedder())


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, embedder: CachingEmbedder) -> KnowledgeSearch:
    root = tmp_path_factory.mktemp("kb")
    entries: list[IndexEntry] = []
    for slug, (title, category, questions, body) in ARTICLES.items():
        meta = {"title": title, "category": category, "questions": questions}
        path = root / f"{slug}.md"
        path.write_text(f"---\n{json.dumps(meta)}\n---\n{body}\n", encoding="utf-8")
        article = parse_article(path)
        entries += article_entries(
            slug=article.slug,
            title=article.title,
            category=article.category,
            questions=article.questions,
            chunks=[(c.ordinal, c.section, c.text, c.content_hash) for c in article.chunks],
        )
    build_index(entries, embedder, root / "index")
    return KnowledgeSearch.load(root / "index")


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("I forgot my password", "reset-password"),
        ("how long does delivery take", "shipping-times"),
        ("I want my money back for this broken kettle", "refunds"),
        ("the screen is too bright at night", "dark-mode"),
    ],
)
def test_related_questions_find_their_article_first(
    kb: KnowledgeSearch, embedder: CachingEmbedder, query: str, slug: str
) -> None:
    hits = kb.search(query, embedder, k=3)

    assert hits[0].slug == slug
    assert len({h.slug for h in hits}) == len(hits)


def test_the_best_section_is_shown(kb: KnowledgeSearch, embedder: CachingEmbedder) -> None:
    hit = kb.search("the password reset email never came", embedder, k=1)[0]

    assert hit.reference == "kb:reset-password#the-reset-email-does-not-arrive"
    assert hit.snippet.startswith("Check your spam folder")


def test_unrelated_questions_score_below_related_ones(
    kb: KnowledgeSearch, embedder: CachingEmbedder
) -> None:
    related = [
        kb.search(q, embedder, k=1)[0].score
        for q in ("I forgot my password", "how long does delivery take", "refund please")
    ]
    unrelated = [
        kb.search(q, embedder, k=1)[0].score
        for q in ("what is the capital of France", "tell me a joke about cats")
    ]

    assert min(related) > max(unrelated) + 0.15
    assert max(unrelated) < 0.35 < min(related)


def test_search_vector_matches_search(kb: KnowledgeSearch, embedder: CachingEmbedder) -> None:
    text = "when does my parcel arrive"
    vector = embedder.encode([text])[0]

    assert kb.search_vector(text, vector, k=3) == kb.search(text, embedder, k=3)
