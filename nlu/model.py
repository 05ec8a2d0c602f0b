"""A trained NLU model: intent classifier + entity extractor + metadata, saved as plain files.

On disk (``model_dir``):

* ``classifier.npz`` — the classifier's arrays (coefficients, intercepts, the training
  examples' vectors and labels, the words' inverse document frequencies);
* ``model.json`` — metadata, classifier settings (with the word vocabulary), entity extractor
  configuration. It is written last, so a directory with a ``model.json`` holds a complete
  model.

``to_bytes`` / ``from_bytes`` pack the same two files into one blob (a zip), for a database.

The bot embeds each message once and shares the vector between NLU and knowledge search, so
``parse_vector`` takes a ready vector (and the text, for the words) and never encodes anything.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlu.classifier import OUT_OF_SCOPE, IntentClassifier, IntentPrediction
from nlu.embedding import Embedder
from nlu.entities import Entity, EntityExtractor
from nlu.errors import ModelNotFoundError, NluError

__all__ = ["FORMAT_VERSION", "ModelMetadata", "NluModel", "ParseResult"]

FORMAT_VERSION = 4  # 2: examples' labels (neighbour vote); 3: one score floor; 4: words
METADATA_FILE = "model.json"
ARRAYS_FILE = "classifier.npz"
RANKING_LENGTH = 10  # as Rasa's /model/parse


@dataclass(frozen=True)
class ParseResult:
    """What the NLU understood of one message. ``intent`` is None when out of scope."""

    text: str
    intent: str | None
    confidence: float
    entities: list[Entity]
    ranking: list[tuple[str, float]]
    out_of_scope: bool

    def entity_values(self, name: str) -> list[str]:
        return [e.value for e in self.entities if e.entity == name]

    def to_dict(self) -> dict[str, Any]:
        """Rasa's ``/model/parse`` response shape (plus ``out_of_scope``)."""
        return {
            "text": self.text,
            "intent": {"name": self.intent or OUT_OF_SCOPE, "confidence": self.confidence},
            "entities": [
                {
                    "entity": e.entity,
                    "value": e.value,
                    "start": e.start,
                    "end": e.end,
                    "confidence_entity": 1.0,
                    "extractor": "helpdesk",
                }
                for e in self.entities
            ],
            "intent_ranking": [
                {"name": name, "confidence": score} for name, score in self.ranking[:RANKING_LENGTH]
            ],
            "out_of_scope": self.out_of_scope,
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> ParseResult:
        """Read a Rasa ``/model/parse`` response (``nlu_fallback`` counts as out of scope)."""
        text = str(payload.get("text", ""))
        intent = payload.get("intent") or {}
        name = intent.get("name")
        out_of_scope = bool(payload.get("out_of_scope", False)) or name in (
            None,
            OUT_OF_SCOPE,
            "nlu_fallback",
        )
        entities = [
            Entity(
                entity=str(e["entity"]),
                value=str(e.get("value", "")),
                start=int(e.get("start", 0)),
                end=int(e.get("end", 0)),
                text=text[int(e.get("start", 0)) : int(e.get("end", 0))],
            )
            for e in payload.get("entities", [])
        ]
        ranking = [
            (str(r["name"]), float(r.get("confidence", 0.0)))
            for r in payload.get("intent_ranking", [])
        ]
        return cls(
            text=text,
            intent=None if out_of_scope else str(name),
            confidence=float(intent.get("confidence") or 0.0),
            entities=entities,
            ranking=ranking,
            out_of_scope=out_of_scope,
        )


@dataclass(frozen=True)
class ModelMetadata:
    """Describes how and from what a model was trained."""

    model_name: str
    data_hash: str
    intents: list[str]
    examples: int
    dimension: int
    trained_at: str
    thresholds: dict[str, float] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION


class NluModel:
    """Classifier, entity extractor and metadata, ready to parse messages."""

    def __init__(
        self,
        *,
        classifier: IntentClassifier,
        extractor: EntityExtractor,
        metadata: ModelMetadata,
    ) -> None:
        self.classifier = classifier
        self.extractor = extractor
        self.metadata = metadata

    @property
    def intents(self) -> list[str]:
        return list(self.metadata.intents)

    def parse(self, text: str, embedder: Embedder) -> ParseResult:
        """Encode ``text`` with ``embedder`` (which must be the training model) and parse it."""
        if embedder.model_name != self.metadata.model_name:
            raise NluError(
                f"this model was trained with {self.metadata.model_name!r}, "
                f"not {embedder.model_name!r}: retrain it"
            )
        return self.parse_vector(text, embedder.encode([text])[0])

    def parse_vector(self, text: str, vector: np.ndarray) -> ParseResult:
        """Parse with an already computed, normalised embedding of ``text``."""
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vec.shape[0] != self.metadata.dimension:
            raise ValueError(
                f"vector has {vec.shape[0]} dimensions, the model expects {self.metadata.dimension}"
            )
        prediction: IntentPrediction = self.classifier.predict(vec, text)
        return ParseResult(
            text=text,
            intent=prediction.intent,
            confidence=prediction.confidence,
            entities=self.extractor.extract(text),
            ranking=prediction.ranking,
            out_of_scope=prediction.out_of_scope,
        )

    def save(self, model_dir: str | Path) -> Path:
        """Write the model; ``model.json`` goes last, atomically."""
        directory = Path(model_dir)
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(directory / ARRAYS_FILE, _npz_bytes(self.classifier.to_arrays()))
        text = json.dumps(self._document(), ensure_ascii=False, indent=2)
        _atomic_write(directory / METADATA_FILE, text.encode("utf-8"))
        return directory

    def to_bytes(self) -> bytes:
        """The model as one blob (a zip of the two files ``save`` writes), for a database."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(ARRAYS_FILE, _npz_bytes(self.classifier.to_arrays()))
            archive.writestr(METADATA_FILE, json.dumps(self._document(), ensure_ascii=False))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> NluModel:
        """The model ``to_bytes`` wrote; ``ModelNotFoundError`` if the blob is not one."""
        try:
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                document = json.loads(archive.read(METADATA_FILE).decode("utf-8"))
                arrays_blob = archive.read(ARRAYS_FILE)
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
            raise ModelNotFoundError(f"the stored model is unreadable ({exc}): retrain") from exc
        if document.get("metadata", {}).get("format_version") != FORMAT_VERSION:
            raise ModelNotFoundError("the stored model was written by another version: retrain")
        with np.load(io.BytesIO(arrays_blob), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        return cls._from_parts(document, arrays)

    def _document(self) -> dict[str, Any]:
        return {
            "metadata": asdict(self.metadata),
            "classifier": self.classifier.config(),
            "entities": self.extractor.to_dict(),
        }

    @classmethod
    def _from_parts(cls, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> NluModel:
        return cls(
            classifier=IntentClassifier.from_saved(document["classifier"], arrays),
            extractor=EntityExtractor.from_dict(document["entities"]),
            metadata=ModelMetadata(**document["metadata"]),
        )

    @classmethod
    def load(cls, model_dir: str | Path) -> NluModel:
        """Load a model saved by ``save``; ``ModelNotFoundError`` if there is none."""
        directory = Path(model_dir)
        document = read_model_document(directory)
        arrays_path = directory / ARRAYS_FILE
        if not arrays_path.exists():
            raise ModelNotFoundError(f"{arrays_path} is missing: retrain the model")
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        return cls._from_parts(document, arrays)


def read_model_document(model_dir: Path) -> dict[str, Any]:
    """The parsed ``model.json`` of a model directory."""
    path = model_dir / METADATA_FILE
    if not path.exists():
        raise ModelNotFoundError(f"no trained NLU model in {model_dir}")
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelNotFoundError(f"{path} is unreadable ({exc}): retrain the model") from exc
    if document.get("metadata", {}).get("format_version") != FORMAT_VERSION:
        raise ModelNotFoundError(f"{path} was written by another version: retrain the model")
    return document


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **dict(arrays))  # type: ignore[arg-type]
    return buffer.getvalue()


def _atomic_write(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
