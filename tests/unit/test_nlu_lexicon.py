"""Word features beside the sentence embedding: the keyword that tells two close intents apart."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.classifier import IntentClassifier, _warm_start
from nlu.lexicon import Lexicon

DIM = 16
INTENTS = {
    "freeze_card": ["freeze my card", "please freeze the card", "can you freeze my card now"],
    "cancel_card": ["cancel my card", "please cancel the card", "can you cancel my card now"],
    "card_arrival": ["where is my new card", "my card has not arrived", "card delivery status"],
}


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def blurred_vectors(texts: list[str], labels: list[str]) -> np.ndarray:
    """An embedding that cannot tell freezing from cancelling: both sit around one direction
    (card_arrival around another), with noise that has nothing to do with the intent."""
    rng = np.random.default_rng(7)
    centre = {"freeze_card": 0, "cancel_card": 0, "card_arrival": 1, "greet": 2}
    return np.array(
        [unit(np.eye(DIM)[centre[label]] + 0.05 * rng.normal(size=DIM)) for label in labels]
    )


def training() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for intent, examples in INTENTS.items():
        for example in examples:  # each example three times, with different noise
            texts += [example] * 3
            labels += [intent] * 3
    return texts, labels


def test_features_match_scikit_learns_tfidf_and_ignore_unknown_words() -> None:
    texts = ["Freeze my card!", "cancel my card please", "I I want a refund refund", "a"]
    queries = ["freeze FREEZE the card", "nothing we know", "", "refund please"]

    ours = Lexicon.fit(texts).transform(queries).toarray()
    reference = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)

    np.testing.assert_allclose(ours, reference.transform(queries).toarray(), atol=1e-6)
    assert not ours[1].any() and not ours[2].any()
    assert np.linalg.norm(ours[0]) == pytest.approx(1.0)


def test_data_without_words_gives_an_empty_lexicon() -> None:
    lexicon = Lexicon.fit(["?", "!", "a"])

    assert len(lexicon) == 0
    assert lexicon.transform(["anything"]).shape == (1, 0)


def test_the_keyword_separates_intents_the_embedding_blurs() -> None:
    texts, labels = training()
    x = blurred_vectors(texts, labels)
    messages = ["freeze my card please", "cancel the card"]
    same = blurred_vectors(messages[:1], ["freeze_card"])[0]
    vectors = np.array([same, same])  # the embedding cannot tell the two messages apart

    clf = IntentClassifier(knn_weight=0.0).fit(x, labels, texts=texts)

    predictions = clf.predict_many(vectors, messages)
    assert [p.intent for p in predictions] == ["freeze_card", "cancel_card"]


def test_a_classifier_with_words_asks_for_the_texts() -> None:
    texts, labels = training()
    clf = IntentClassifier().fit(blurred_vectors(texts, labels), labels, texts=texts)

    with pytest.raises(ValueError, match="texts"):
        clf.predict(blurred_vectors(["freeze it"], ["freeze_card"])[0])
    with pytest.raises(ValueError, match="one text per label"):
        IntentClassifier().fit(blurred_vectors(texts, labels), labels, texts=texts[:-1])


def test_saved_words_predict_identically() -> None:
    texts, labels = training()
    clf = IntentClassifier().fit(blurred_vectors(texts, labels), labels, texts=texts)
    copy = IntentClassifier.from_saved(clf.config(), clf.to_arrays())
    messages = ["freeze my card", "cancel it", "where is the card", "hello"]
    vectors = blurred_vectors(messages, ["freeze_card", "cancel_card", "card_arrival", "greet"])

    assert copy.lexicon is not None and copy.lexicon.terms == clf.lexicon.terms  # type: ignore[union-attr]
    assert copy.predict_many(vectors, messages) == clf.predict_many(vectors, messages)


def test_retraining_with_new_words_answers_like_training_from_scratch() -> None:
    texts, labels = training()
    first = IntentClassifier(knn_weight=0.0).fit(
        blurred_vectors(texts, labels), labels, texts=texts
    )
    more_texts = [*texts, "block my card, it was stolen"]
    more_labels = [*labels, "freeze_card"]
    x = blurred_vectors(more_texts, more_labels)

    warm = IntentClassifier(knn_weight=0.0).fit(x, more_labels, texts=more_texts, previous=first)
    cold = IntentClassifier(knn_weight=0.0).fit(x, more_labels, texts=more_texts)

    messages = ["block the card", "cancel my card", "freeze it"]
    vectors = blurred_vectors(messages, ["freeze_card", "cancel_card", "freeze_card"])
    assert warm.lexicon is not None and "block" in warm.lexicon.terms
    assert [p.ranking[0][0] for p in warm.predict_many(vectors, messages)] == [
        p.ranking[0][0] for p in cold.predict_many(vectors, messages)
    ]
    np.testing.assert_allclose(
        warm.probabilities(vectors, messages), cold.probabilities(vectors, messages), atol=0.02
    )


def test_a_retrain_starts_each_known_word_from_its_old_coefficients() -> None:
    texts, labels = training()
    first = IntentClassifier(knn_weight=0.0).fit(
        blurred_vectors(texts, labels), labels, texts=texts
    )
    more_texts = [*texts, "block my card, it was stolen"]
    lexicon = Lexicon.fit(more_texts)

    start = _warm_start(first, sorted(set(labels)), DIM, lexicon)

    assert start is not None and first.lexicon is not None
    coef, intercept = start
    old, new = first.lexicon.columns, lexicon.columns
    for word in ("freeze", "cancel", "my card"):  # moved columns: "block" sorts before them
        assert new[word] != old[word]
        np.testing.assert_array_equal(coef[:, DIM + new[word]], first.coef[:, DIM + old[word]])
    assert not coef[:, DIM + new["block"]].any()  # a new word starts at zero
    np.testing.assert_array_equal(coef[:, :DIM], first.coef[:, :DIM])
    np.testing.assert_array_equal(intercept, first.intercept)
