"""Language detection is conservative: English help-desk messages are never flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu import language
from nlu.language import detect_language, is_unsupported

ENGLISH = [
    "where is my order",
    "I can't log in to my account",
    "my lamp keeps blinking red",
    "refund please",
    "hola",
    "merci",
    "danke schön",
    "gracias amigo for the help",
    "how do I cancel Lumio Plus",
    "pls help lamp dead",
    "LM-204518 where is it",
    "Can I ship to Canada?",
]

FOREIGN = [
    "¿Dónde está mi pedido? Lo compré hace dos semanas.",
    "Mi lámpara no funciona, necesito ayuda por favor",
    "Wo ist meine Bestellung? Ich warte seit zwei Wochen.",
    "Ich kann mich nicht in mein Konto einloggen",
    "Je n'arrive pas à connecter mon ampoule au hub.",
    "Comment annuler mon abonnement Lumio Plus ?",
    "Где мой заказ? Я жду уже две недели.",
    "注文した商品がまだ届いていません。",
]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_and_short_messages_are_not_flagged(text: str) -> None:
    assert not is_unsupported(text)


@pytest.mark.parametrize("text", FOREIGN)
def test_foreign_questions_are_flagged(text: str) -> None:
    assert is_unsupported(text)


def test_supported_languages_are_not_flagged() -> None:
    assert not is_unsupported("Wo ist meine Bestellung? Ich warte seit zwei Wochen.", ("en", "de"))
    assert not is_unsupported("Где мой заказ? Я жду уже две недели.", ("en", "ru"))


def test_detect_language_returns_code_and_probability() -> None:
    lang, prob = detect_language("Je n'arrive pas à connecter mon ampoule au hub.")

    assert lang == "fr"
    assert 0.9 <= prob <= 1.0
    assert detect_language("   ") == ("en", 0.0)


def test_the_compact_copy_in_the_data_dir_decides_as_the_packaged_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written on the first start, read on the next: the same language and probability for
    every message, from a file named after the installed py3langid."""
    texts = ENGLISH + FOREIGN
    monkeypatch.setattr(language, "_identifier", None)
    newer = language._cache_file(tmp_path)
    older = newer.parent / f"{newer.name}.npz"
    older.write_bytes(b"the single-archive copy an older version kept")
    language.load(tmp_path)  # first start: from the package, then kept
    (kept,) = tmp_path.glob("language-id-*")
    assert kept == newer and not older.exists()  # replaced, not left beside the new copy
    first = [language.detect_language(t) for t in texts]
    monkeypatch.setattr(language, "_identifier", None)
    monkeypatch.setattr(language, "_packaged_identifier", _must_not_be_needed)
    language.load(tmp_path)  # next start: from the copy alone
    assert [language.detect_language(t) for t in texts] == first
    assert kept.exists()


def test_an_unreadable_copy_falls_back_to_the_packaged_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(language, "_identifier", None)
    language.load(tmp_path)
    (kept,) = tmp_path.glob("language-id-*")
    table = kept / "nextmove.npy"
    table.write_bytes(table.read_bytes()[:1000])  # cut short
    monkeypatch.setattr(language, "_identifier", None)
    language.load(tmp_path)
    assert language.detect_language("Je n'arrive pas à connecter mon ampoule au hub.")[0] == "fr"


def _must_not_be_needed() -> None:
    raise AssertionError("the packaged model was loaded although a copy was kept")
