"""Dataset labels (folder names, CSV cells) -> the model output they name. Pure, no I/O.

Classes are identified by label text, so two outputs that share a text (ImageNet has two
"crane"s) are one class: nobody can tell them apart from the label, and a class-folder tree
could not name them apart either. Each output maps to its *canonical* index, the first output
with the same text; truths and predictions are compared on canonical indices.
"""

from __future__ import annotations

import re

import numpy as np

# ImageNet datasets number their 1000 classes 0..999, while 1001-output models put a
# background class at output 0: a class index i then names output i + 1.
IMAGENET_CLASSES = 1000


def normalize(text: str) -> str:
    """Case, underscores for spaces and repeated blanks do not matter in a folder name."""
    return re.sub(r"\s+", " ", text.replace("_", " ")).strip().casefold()


class LabelMatcher:
    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        first: dict[str, int] = {}
        self.canonical = np.array([first.setdefault(text, i) for i, text in enumerate(labels)], dtype=np.int64)
        self._exact = first
        self._loose = self._loose_names(labels)
        self.index_offset = 1 if len(labels) == IMAGENET_CLASSES + 1 else 0

    def _loose_names(self, labels: list[str]) -> dict[str, int | None]:
        """Normalized full texts, then each comma-separated synonym; None marks an ambiguous name."""
        names: dict[str, int | None] = {}
        for i, text in enumerate(labels):
            names.setdefault(normalize(text), int(self.canonical[i]))
        synonyms: dict[str, int | None] = {}
        for i, text in enumerate(labels):
            for part in text.split(","):
                key = normalize(part)
                if key and key not in names:
                    known = synonyms.get(key, int(self.canonical[i]))
                    synonyms[key] = known if known == self.canonical[i] else None
        return {**synonyms, **names}

    def by_text(self, text: str) -> int | None:
        exact = self._exact.get(text)
        return exact if exact is not None else self._loose.get(normalize(text))

    def by_index(self, value: str | int) -> int | None:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        index = number + self.index_offset
        return int(self.canonical[index]) if number >= 0 and index < len(self.labels) else None

    def resolve(self, name: str) -> int | None:
        """Label text first; a bare number is then a class index."""
        found = self.by_text(name)
        if found is None and name.strip().isdigit():
            found = self.by_index(name.strip())
        return found
