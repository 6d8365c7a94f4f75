"""What the explanation pages lay out, and the words that read their numbers.

Each verdict is derived from a measured number against a stated threshold, so a method that is weak
for this model is called weak on the page, with the number that says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from generator.features.explain.faithfulness import RANDOM
from generator.pages.numbers import number, signed
from generator.pages.svg import BarChart, LineChart

SANITY_FAIL, SANITY_PASS = 0.5, 0.2  # Spearman ρ of |attribution|, trained vs randomized network


@dataclass
class Overlay:
    method: str
    image: str
    alt: str
    note: str  # the largest |value|, in the method's own units: what 1 on the colour bar stands for


@dataclass
class MethodRow:
    method: str
    deletion: str
    insertion: str
    score: str
    spearman: str
    verdict: str
    best: bool = False
    best_on: str = ""
    spearman_digit: str = ""  # the same correlation over the digit's own (non-black) pixels only


@dataclass
class TopMap:
    index: int
    value: str
    thumb: str | None
    url: str | None


@dataclass
class LayerTop:
    layer: str
    maps: list[TopMap]


@dataclass
class Explanation:
    index: int
    digit: str
    true: str
    predicted: str
    confidence: float
    true_prob: float
    wrong: bool
    probs: BarChart
    overlays: list[Overlay]
    contrast: Overlay | None
    randomized: list[Overlay]
    colorbar: str
    scale_note: str
    rows: list[MethodRow]
    deletion: LineChart
    insertion: LineChart
    curve_note: str
    reading: str
    ig_note: str
    tops: list[LayerTop]
    summary: str          # url of the summary page
    page: str | None      # url of the image's own page, if it has one


@dataclass
class ImagePage:
    data: Explanation     # `data`, so the page includes the same partial as the set-image panel


@dataclass
class Tile:
    index: int
    image: str
    page: str  # its explanation page
    true: str
    predicted: str
    confidence: float
    true_prob: float


@dataclass
class SummaryData:
    count: int
    rows: list[MethodRow]
    findings: list[str]
    how: list[str]
    tiles: list[Tile]
    example: Explanation | None
    sets_note: str = ""
    extra: list[str] = field(default_factory=list)
    scope: str = ""  # which mistakes: "the 57 misclassified test images", or the most confident of many
    verdict: "Verdict | None" = None  # the one answer to "which method to believe"
    methods: str = ""  # how many attribution methods, in words ("six"; five without Grad-CAM)

def sanity_verdict(rho: float) -> str:
    if not np.isfinite(rho):
        return "not measurable (the randomized network's attribution is constant)"
    if rho >= SANITY_FAIL:
        return (f"fails the randomization check: with random weights it ranks the pixels much as with the "
                f"trained ones (ρ = {number(rho)} ≥ {SANITY_FAIL}), so its picture shows the digit more than the network")
    if rho > SANITY_PASS:
        return f"partly passes the randomization check (ρ = {number(rho)}, between {SANITY_PASS} and {SANITY_FAIL})"
    return f"passes the randomization check (ρ = {number(rho)} ≤ {SANITY_PASS}: random weights give another picture)"


def _rho(value: float) -> str:
    return number(value) if np.isfinite(value) else "n/a"


def digit_note(rho: float, rho_digit: float) -> str:
    """Whether a high correlation comes from the black background alone (zero for both networks)."""
    if not (np.isfinite(rho) and np.isfinite(rho_digit)) or rho < SANITY_FAIL:
        return ""
    if rho_digit < SANITY_FAIL:
        return (f" — but over the digit's own pixels only ρ = {number(rho_digit)}: the likeness comes mostly from the "
                "background around the digit, not from the digit's own pixels")
    return f"; over the digit's own pixels too (ρ = {number(rho_digit)})"


def faith_verdict(score: float, random_score: float, best: bool) -> str:
    if score <= random_score:
        return (f"weak for this model: insertion − deletion {signed(score, 3)}, no better than a random order of the "
                f"pixels ({signed(random_score, 3)})")
    return ("the most faithful" if best else "more faithful than a random order") + \
        f" (insertion − deletion {signed(score, 3)} against {signed(random_score, 3)} for a random order)"


def method_rows(table) -> list[MethodRow]:
    """Rows of faithfulness.method_table, each with its verdicts in words."""
    random_score = float(table.loc[table.method == RANDOM, "score"].iloc[0])
    methods = table[table.method != RANDOM]
    top = methods.score.idxmax() if len(methods) else None
    rows = []
    for i, r in table.iterrows():
        if r.method == RANDOM:
            verdict, rho = "the reference: pixels removed in a random order", "—"
        else:
            verdict = (faith_verdict(r.score, random_score, i == top) + "; " + sanity_verdict(r.spearman)
                       + digit_note(r.spearman, r.spearman_digit))
            rho = _rho(r.spearman)
        rows.append(MethodRow(r.method, f"{r.deletion:.3f}", f"{r.insertion:.3f}", signed(r.score, 3), rho,
                              verdict, i == top, str(int(r.best_on)) if r.method != RANDOM else "—",
                              _rho(r.spearman_digit) if r.method != RANDOM else "—"))
    return rows


def reading(rows: list[MethodRow], table) -> str:
    """One image's verdict in words: the most faithful method and those no better than random order."""
    random_score = float(table.loc[table.method == RANDOM, "score"].iloc[0])
    weak = [r.method for r in table.itertuples() if r.method != RANDOM and r.score <= random_score]
    best = next((r for r in rows if r.best), None)
    text = f"On this image {best.method} is the most faithful (insertion − deletion {best.score})." if best else ""
    if weak:
        text += (f" No better than removing pixels in a random order ({signed(random_score, 3)}) here: "
                 f"{', '.join(weak)}.")
    return text


@dataclass
class Verdict:
    """The one answer to "which method to believe for this model", and the rule that gave it."""
    method: str      # the method to believe, or "" when none earns trust
    headline: str    # one sentence, with its numbers
    detail: str      # the runner-up that fails the check, the per-image wins
    rule: str


def verdict(table) -> Verdict | None:
    """A method is trusted when its picture depends on the trained weights (randomization check ρ below
    SANITY_FAIL) and it beats a random order of the pixels; of the trusted ones, the most faithful on
    average is the one to believe. The per-image wins are said beside it, since a method can win more
    images and still lose on average."""
    random_score = float(table.loc[table.method == RANDOM, "score"].iloc[0])
    methods = table[table.method != RANDOM]
    if not len(methods):
        return None
    trusted = methods[(methods.spearman < SANITY_FAIL) & (methods.score > random_score)]
    top = methods.loc[methods.score.idxmax()]
    if not np.isfinite(methods.spearman).any():
        return Verdict("", f"Which attribution method to believe cannot be decided for this model: the randomization "
                           f"check could not be measured (the randomized network's attributions are constant). By "
                           f"faithfulness alone, {top.method} ranks the pixels that matter best ({signed(top.score, 3)}).",
                       "", "")
    rule = (f"A method is trusted when the randomization check passes or partly passes (ρ < {SANITY_FAIL}) and "
            f"it beats a random order of the pixels ({signed(random_score, 3)}); of those, the most faithful on average "
            f"(insertion − deletion) is the one to believe.")
    detail = []
    if len(trusted):
        best = trusted.loc[trusted.score.idxmax()]
        chosen = str(best.method)
        headline = (f"Believe {chosen} for this model: the most faithful of the methods whose picture depends on "
                    f"the trained weights (insertion − deletion {signed(best.score, 3)}, ρ = {number(best.spearman)}).")
        if top.method != chosen:
            detail.append(f"{top.method} scores higher ({signed(top.score, 3)}) but fails the randomization check "
                          f"(ρ = {number(top.spearman)}): its picture shows the digit as much as the network's reasons.")
    else:
        chosen = ""
        check = (f"has ρ = {number(top.spearman)} with random weights" if np.isfinite(top.spearman) else
                 "could not be checked (its randomized attribution is constant)")
        headline = (f"No attribution method earns trust for this model: each fails the randomization check, cannot "
                    f"be checked, or is no better than a random order; the most faithful, {top.method} "
                    f"({signed(top.score, 3)}), {check}.")
    leader = methods.sort_values("best_on", ascending=False, kind="stable").iloc[0]
    reference = best if len(trusted) else top
    if int(leader.best_on) and leader.method != reference.method:
        wins = (f"Image by image, {leader.method} is the most faithful most often ({int(leader.best_on)} of "
                f"{int(methods.best_on.sum())} images)")
        if leader.score < reference.score:
            wins += (f", but its mean is lower ({signed(leader.score, 3)}): it wins many images by a little and loses "
                     f"others by more")
        elif leader.spearman >= SANITY_FAIL:
            wins += f", but it fails the randomization check (ρ = {number(leader.spearman)})"
        detail.append(wins + ".")
    return Verdict(chosen, headline, " ".join(detail), rule)
