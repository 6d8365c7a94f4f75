"""Which test images an image set shows: explicit numbers or a rule over the network's predictions.

Test image numbers are indices into the canonical, unshuffled test set. Every rule is deterministic:
ties in a probability are broken by the lower test image number.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

from generator.config.activations import ActivationsConfig, ImageSetConfig, SetRule
from generator.errors import UserError

_SLUG_MAX = 60


def slug(name: str) -> str:
    """URL- and file-safe form of a set name: lowercase [a-z0-9-], same name -> same slug."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:_SLUG_MAX].strip("-")
    if text:
        return text
    # Names made only of symbols or non-Latin script still need a stable, distinct file name.
    return "set-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


def display_title(set_cfg: ImageSetConfig) -> str:
    """What a page calls the set: its title, or its name when no title is given."""
    return set_cfg.title or set_cfg.name


def validate_sets(cfg: ActivationsConfig) -> None:
    """Raise UserError for sets a page could not be built from, before any computing starts."""
    seen_names: set[str] = set()
    seen_slugs: dict[str, str] = {}
    for position, set_cfg in enumerate(cfg.image_sets):
        _check_name(set_cfg.name, position, seen_names)
        _check_slug(set_cfg.name, seen_slugs)
        _check_selection(set_cfg)
    _check_comparisons(cfg, seen_names)
    _check_pairs(cfg)


def _check_pairs(acfg) -> None:
    """What validate_sets leaves open: an image listed twice in a set, a comparison made twice."""
    for set_cfg in acfg.image_sets:
        indices = list(set_cfg.indices or [])
        twice = sorted({i for i in indices if indices.count(i) > 1})
        if twice:
            raise UserError(f"image set '{set_cfg.name}': lists test image {twice[0]} more than once")
    seen = set()
    for position, comparison in enumerate(acfg.comparisons):
        pair = (slug(comparison.a), slug(comparison.b))
        if pair in seen:
            raise UserError(f"activations.comparisons[{position}]: compares '{comparison.a}' with "
                            f"'{comparison.b}' a second time")
        seen.add(pair)


def _check_name(name: str, position: int, seen: set[str]) -> None:
    if not name or not name.strip():
        raise UserError(f"activations.image_sets[{position}]: every image set needs a name")
    if name in seen:
        raise UserError(f"image set '{name}' is defined twice")
    seen.add(name)


def _check_slug(name: str, seen: dict[str, str]) -> None:
    # Two different names may reduce to the same file name ('Clear 4s' and 'clear-4s').
    key = slug(name)
    if key in seen:
        raise UserError(f"image sets '{seen[key]}' and '{name}' would share the file name '{key}'")
    seen[key] = name


def _check_selection(set_cfg: ImageSetConfig) -> None:
    where = f"image set '{set_cfg.name}'"
    if (set_cfg.indices is None) == (set_cfg.rule is None):
        raise UserError(f"{where}: give either indices or a rule, not both or neither")
    if set_cfg.indices is not None and len(set_cfg.indices) == 0:
        raise UserError(f"{where}: indices is empty")
    rule = set_cfg.rule
    if rule is not None and rule.kind == "closest_to":
        if rule.other is None:
            raise UserError(f"{where}: rule closest_to needs 'other' (the class the images resemble)")
        if rule.other == rule.label:
            raise UserError(f"{where}: rule closest_to needs 'other' different from 'label' ({rule.label})")


def _check_comparisons(cfg: ActivationsConfig, names: set[str]) -> None:
    for position, comparison in enumerate(cfg.comparisons):
        for side in ("a", "b"):
            name = getattr(comparison, side)
            if name not in names:
                known = ", ".join(repr(n) for n in sorted(names)) or "none defined"
                raise UserError(f"activations.comparisons[{position}].{side}: no image set named "
                                f"'{name}' (known: {known})")
        if comparison.a == comparison.b:
            raise UserError(f"activations.comparisons[{position}]: compares '{comparison.a}' with itself")


def resolve_set(set_cfg: ImageSetConfig, probs: np.ndarray | None, labels: np.ndarray | None,
                n_test: int) -> np.ndarray:
    """Test image numbers of one set, in the order the page shows them (int64 array).

    `probs` (N, 10) are the network's softmax outputs and `labels` (N,) the true classes of the
    first N test images; they are only read by rules, so explicit indices may pass None.
    """
    if set_cfg.indices is not None:
        return _checked_indices(set_cfg.name, set_cfg.indices, n_test)
    if set_cfg.rule is None:
        raise UserError(f"image set '{set_cfg.name}': give either indices or a rule")
    probs, labels = _checked_predictions(probs, labels)
    chosen = _apply_rule(set_cfg.rule, probs, labels)
    if chosen.size == 0:
        raise UserError(f"image set '{set_cfg.name}': {_empty_reason(set_cfg.rule)}")
    return chosen[: set_cfg.rule.count].astype(np.int64)


def check_indices(cfg: ActivationsConfig, n_test: int) -> None:
    """Explicit test-image numbers must exist in the data set (checked as soon as it is loaded)."""
    for set_cfg in cfg.image_sets:
        if set_cfg.indices is not None:
            _checked_indices(set_cfg.name, set_cfg.indices, n_test)


def _checked_indices(name: str, indices, n_test: int) -> np.ndarray:
    for index in indices:
        if not 0 <= index < n_test:
            raise UserError(f"image set '{name}': test image {index} is out of range (0..{n_test - 1})")
    return np.asarray(indices, dtype=np.int64)


def _checked_predictions(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    if probs.ndim != 2 or labels.shape != (probs.shape[0],):
        raise ValueError(f"probs {probs.shape} and labels {labels.shape} do not describe the same images")
    return probs, labels


def _apply_rule(rule: SetRule, probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """All images the rule accepts, best first (the caller keeps the first `count`)."""
    of_class = np.flatnonzero(labels == rule.label)
    if rule.kind == "first":
        return of_class
    if rule.kind == "most_confident":
        return _rank(of_class, probs[of_class, rule.label], descending=True)
    if rule.kind == "least_confident":
        return _rank(of_class, probs[of_class, rule.label], descending=False)
    if rule.kind == "misclassified":
        wrong = of_class[probs[of_class].argmax(axis=1) != rule.label]
        # The confidence of a mistake is the probability of the class the network chose.
        return _rank(wrong, probs[wrong].max(axis=1), descending=True)
    if rule.kind == "closest_to":
        if rule.other is None:
            raise UserError("rule closest_to needs 'other'")
        return _rank(of_class, probs[of_class, rule.other], descending=True)
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def _rank(candidates: np.ndarray, scores: np.ndarray, descending: bool) -> np.ndarray:
    # candidates are in increasing test order, so a stable sort breaks ties by image number.
    order = np.argsort(-scores if descending else scores, kind="stable")
    return candidates[order]


def _empty_reason(rule: SetRule) -> str:
    if rule.kind == "misclassified":
        return f"the network misclassifies no test image of class {rule.label}"
    return f"no test image has class {rule.label}"
