"""Confusion statistics against a case small enough to compute by hand."""
from __future__ import annotations

import numpy as np
import pytest

from generator.features.confusion import confusion

# 8 images of classes 0..2.  True: 0 0 0 1 1 2 2 2.  Predicted: 0 0 1 1 1 2 0 1.
Y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
PRED = np.array([0, 0, 1, 1, 1, 2, 0, 1])


def _probs(pred, confidence):
    probs = np.full((len(pred), 3), 0.0)
    for i, (p, c) in enumerate(zip(pred, confidence)):
        probs[i] = (1 - c) / 2
        probs[i, p] = c
    return probs


def test_matrix_by_hand():
    m = confusion.confusion_matrix(Y, PRED, 3)
    assert m.tolist() == [[2, 1, 0], [0, 2, 0], [1, 1, 1]]
    assert np.allclose(confusion.row_normalized(m)[2], [1 / 3, 1 / 3, 1 / 3])


def test_precision_recall_f1_by_hand():
    table = confusion.per_class_table(confusion.confusion_matrix(Y, PRED, 3), ["a", "b", "c"])
    # class 1: predicted 4 times, 2 right -> precision 0.5; 2 of 2 found -> recall 1; F1 = 2/3
    assert table.loc[1, "precision"] == pytest.approx(0.5)
    assert table.loc[1, "recall"] == pytest.approx(1.0)
    assert table.loc[1, "f1"] == pytest.approx(2 / 3)
    # class 0: precision 2/3, recall 2/3; class 2: precision 1, recall 1/3, F1 0.5
    assert table.loc[0, ["precision", "recall"]].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert table.loc[2, "f1"] == pytest.approx(0.5)
    assert table["support"].tolist() == [3, 2, 3] and table["errors"].tolist() == [1, 0, 2]


def test_most_confused_pairs_count_both_directions():
    pairs = confusion.confused_pairs(confusion.confusion_matrix(Y, PRED, 3))
    # 0->1: 1, 2->0: 1, 2->1: 1; pairs (0,1)=1, (0,2)=1, (1,2)=1, ordered by total then class
    assert [(r.a, r.b, r.total) for r in pairs.itertuples()] == [(0, 1, 1), (0, 2, 1), (1, 2, 1)]
    m = np.array([[5, 3, 0], [4, 5, 1], [0, 0, 9]])
    top = confusion.confused_pairs(m).iloc[0]
    assert (top.a, top.b, top.a_as_b, top.b_as_a, top.total) == (0, 1, 3, 4, 7)


def test_misclassified_most_confident_first():
    probs = _probs(PRED, [0.9, 0.9, 0.6, 0.9, 0.9, 0.9, 0.8, 0.7])
    assert confusion.misclassified(Y, probs).tolist() == [6, 7, 2]
    assert confusion.pair_examples(Y, probs, 0, 2).tolist() == [6]
