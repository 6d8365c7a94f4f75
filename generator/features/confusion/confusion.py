"""Which classes the network mixes up, measured on the full test set."""
from __future__ import annotations

import numpy as np
import pandas as pd



def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Rows are true classes, columns predicted ones."""
    flat = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def row_normalized(matrix: np.ndarray) -> np.ndarray:
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=np.float64), where=totals > 0)


def per_class_table(matrix: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """Precision, recall and F1 per class; a class never predicted has precision 0, not NaN."""
    tp = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return pd.DataFrame({"class": class_names, "precision": precision, "recall": recall, "f1": f1,
                         "support": actual.astype(int), "errors": (actual - tp).astype(int)})


def confused_pairs(matrix: np.ndarray, top: int = 6) -> pd.DataFrame:
    """Unordered class pairs by total mistakes in both directions (a→b plus b→a)."""
    rows = [{"a": a, "b": b, "a_as_b": int(matrix[a, b]), "b_as_a": int(matrix[b, a]),
             "total": int(matrix[a, b] + matrix[b, a])}
            for a in range(len(matrix)) for b in range(a + 1, len(matrix))]
    table = pd.DataFrame(rows).sort_values(["total", "a", "b"], ascending=[False, True, True])
    return table[table.total > 0].head(top).reset_index(drop=True)


def misclassified(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Indices of wrongly predicted images, most confident mistakes first (ties by index)."""
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y_true)
    confidence = probs[wrong, pred[wrong]]
    return wrong[np.lexsort((wrong, -confidence))]


def pair_examples(y_true: np.ndarray, probs: np.ndarray, a: int, b: int) -> np.ndarray:
    """Test images of a predicted as b or of b predicted as a, most confident mistakes first."""
    pred = probs.argmax(axis=1)
    wrong = misclassified(y_true, probs)
    keep = ((y_true[wrong] == a) & (pred[wrong] == b)) | ((y_true[wrong] == b) & (pred[wrong] == a))
    return wrong[keep]


# The statistics come from the evaluation stage's predictions; this analysis only adds the page.
