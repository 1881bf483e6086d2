"""Dataset labels -> model outputs: label text, loose folder names, class indices, duplicates."""

from __future__ import annotations

import functools

import pytest

from edge_app.evaluate.labelmatch import LabelMatcher, normalize
from edge_app.model.labels import fit_labels, read_label_file
from tests.helpers.shared_data import MODELS


@functools.cache
def imagenet_labels() -> list[str]:
    """ImageNet's labels from ../shared/models, read when a test (marked `shared`) first asks."""
    return fit_labels(read_label_file(MODELS / "imagenet_labels.txt"), 1001)


@pytest.fixture(scope="module")
def imagenet() -> LabelMatcher:
    return LabelMatcher(imagenet_labels())


def test_normalize_ignores_case_underscores_and_extra_blanks() -> None:
    assert normalize("  Egyptian_cat ") == "egyptian cat"
    assert normalize("Great  White\tShark") == "great white shark"


@pytest.mark.shared
def test_exact_label_text_names_its_output(imagenet: LabelMatcher) -> None:
    assert imagenet.by_text("tench, Tinca tinca") == 1
    assert imagenet.by_text("hotdog, hot dog, red hot") == 935


@pytest.mark.shared
def test_folder_friendly_spellings_and_synonyms(imagenet: LabelMatcher) -> None:
    assert imagenet.by_text("egyptian_cat") == 286
    assert imagenet.by_text("tench") == 1, "first synonym"
    assert imagenet.by_text("Tinca tinca") == 1, "any synonym that names one class"
    assert imagenet.by_text("no such thing") is None


def test_a_synonym_shared_by_two_classes_is_not_guessed() -> None:
    matcher = LabelMatcher(["background", "cougar, panther", "jaguar, panther"])
    assert matcher.by_text("panther") is None
    assert matcher.by_text("jaguar") == 2


def test_full_text_wins_over_another_class_synonym() -> None:
    matcher = LabelMatcher(["maillot, tank suit", "maillot"])
    assert matcher.by_text("maillot") == 1
    assert matcher.by_text("tank suit") == 0


@pytest.mark.shared
def test_duplicate_texts_are_one_class(imagenet: LabelMatcher) -> None:
    cranes = [i for i, text in enumerate(imagenet_labels()) if text == "crane"]
    assert len(cranes) == 2, "ImageNet has a bird and a machine both labelled 'crane'"
    assert [int(imagenet.canonical[i]) for i in cranes] == [cranes[0], cranes[0]]
    assert imagenet.by_text("crane") == cranes[0]
    assert imagenet.by_index(cranes[1] - 1) == cranes[0], "class index of the second crane"


@pytest.mark.shared
def test_class_index_skips_the_background_of_1001_output_models(imagenet: LabelMatcher) -> None:
    assert imagenet.index_offset == 1
    assert imagenet.by_index(0) == 1 and imagenet_labels()[1].startswith("tench")
    assert imagenet.by_index("999") == 1000
    assert imagenet.by_index(1000) is None and imagenet.by_index(-1) is None and imagenet.by_index("x") is None


@pytest.mark.shared
def test_class_index_is_the_output_when_there_is_no_background() -> None:
    thousand = LabelMatcher(imagenet_labels()[1:])
    assert thousand.index_offset == 0
    assert thousand.by_index(0) == 0 and thousand.labels[0].startswith("tench")
    small = LabelMatcher(["cat", "dog"])
    assert small.by_index(1) == 1 and small.by_index(2) is None


@pytest.mark.shared
def test_resolve_tries_text_then_a_bare_number(imagenet: LabelMatcher) -> None:
    assert imagenet.resolve("Egyptian cat") == 286
    assert imagenet.resolve("285") == 286
    numbered = LabelMatcher([str(i) for i in range(10)])  # a model without labels: outputs named by index
    assert numbered.resolve("7") == 7
