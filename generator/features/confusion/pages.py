"""The confusion page: what the network mixes up, with every mistake shown as a picture."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator import imaging
from generator.features.confusion import confusion
from generator.pages import urls
from generator.pages.model import Link, Page
from generator.pages.section import Card, Section, in_build
from generator.pages.testimages import draw_test_images
from generator.features.confusion.findings import findings

HEATMAP_COUNTS = "img/confusion/counts.png"
HEATMAP_RATES = "img/confusion/rates.png"


@dataclass
class Mistake:
    index: int
    image: str
    true: str
    predicted: str
    confidence: float
    true_prob: float
    page: str | None = None  # its explanation page, when the build has one


@dataclass
class Pair:
    a: str
    b: str
    a_as_b: int
    b_as_a: int
    total: int
    mistakes: list[Mistake]


@dataclass
class ConfusionData:
    accuracy: float
    errors: int
    total: int
    table: list[dict]
    pairs: list[Pair]
    mistakes: list[Mistake]
    shown_limit: int
    class_names: list[str]
    heatmaps: tuple[str, str] = (HEATMAP_COUNTS, HEATMAP_RATES)
    matrix: list[list[int]] = field(default_factory=list)  # counts, rows true, columns predicted; shown as text


def _evaluation(build):
    art = build.results["evaluation"]
    return art.arrays["probs"], art.arrays["confusion"], art.arrays["misclassified"]


def _shown(build) -> np.ndarray:
    return _evaluation(build)[2][: build.cfg.site.misclassified_limit]


def depends(build):
    return [build.results["evaluation"].key, build.cfg.site.misclassified_limit, build.dataset.class_names]


def draw(build, out: Path) -> None:
    _, matrix, _ = _evaluation(build)
    names = build.dataset.class_names
    imaging.heatmap(out / HEATMAP_COUNTS, matrix, names, "Test images (counts)", "d")
    imaging.heatmap(out / HEATMAP_RATES, confusion.row_normalized(matrix), names,
                    "Share of each true class", ".2f", cmap="Oranges")
    draw_test_images(build, out, _shown(build))


def _mistake(build, probs, index: int) -> Mistake:
    names, y = build.dataset.class_names, build.dataset.y_test
    pred = int(probs[index].argmax())
    page = _link(build, int(index))
    return Mistake(int(index), urls.test_image(int(index)), names[int(y[index])], names[pred],
                   float(probs[index, pred]), float(probs[index, int(y[index])]),
                   page if page != urls.CONFUSION else None)


def page_data(build) -> ConfusionData:
    probs, matrix, wrong = _evaluation(build)
    names, y = build.dataset.class_names, build.dataset.y_test
    shown = set(int(i) for i in _shown(build))
    pairs = []
    for row in confusion.confused_pairs(matrix).itertuples():
        examples = [i for i in confusion.pair_examples(y, probs, row.a, row.b) if int(i) in shown]
        pairs.append(Pair(names[row.a], names[row.b], row.a_as_b, row.b_as_a, row.total,
                          [_mistake(build, probs, i) for i in examples]))
    table = confusion.per_class_table(matrix, names).to_dict("records")
    return ConfusionData(float(np.trace(matrix) / matrix.sum()), int(len(wrong)), int(matrix.sum()), table,
                         pairs, [_mistake(build, probs, i) for i in _shown(build)],
                         build.cfg.site.misclassified_limit, names, matrix=matrix.astype(int).tolist())


def pages(build) -> list[Page]:
    return [Page(urls.CONFUSION, "confusion.html", "Confusion", [Link("Index", urls.INDEX)],
                 page_data(build), section="confusion",
                 description="Which classes the network mixes up on the full test set.")]


def cards(build) -> list[Card]:
    _, matrix, wrong = _evaluation(build)
    pairs = confusion.confused_pairs(matrix, top=4)
    names = build.dataset.class_names
    mixups = ", ".join(f"{names[r.a]}↔{names[r.b]} ({r.total})" for r in pairs.itertuples())
    return [Card("Confusion", urls.CONFUSION,
                [f"{len(wrong)} of {int(matrix.sum()):,} test images misclassified", f"Most confused: {mixups}"],
                [(urls.test_image(int(i)), f"misclassified test image {int(i)}", _link(build, int(i)))
                 for i in wrong[:12]])]


def _link(build, index: int) -> str:
    """A mistake's explanation page when the build has one, else the confusion page."""
    explained = in_build(build, "explanations")
    return (explained.page_of(build, index) if explained else None) or urls.CONFUSION


SECTION = Section("confusion", depends, draw, pages, cards, nav=("Confusion", urls.CONFUSION), findings=findings)
