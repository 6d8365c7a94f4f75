"""What the index says about the network's mistakes, by rule, from the evaluation's confusion matrix."""
from __future__ import annotations

from generator.features.confusion.confusion import confused_pairs
from generator.pages import urls
from generator.pages.model import Finding

MIN_MISTAKES = 5   # fewer mistakes say nothing about which classes the network mixes up
CLUSTER = 0.3      # the commonest pairs (at most PAIRS) make at least this share: the mistakes cluster
PAIRS = 3


def findings(build) -> list[Finding]:
    art = build.results["evaluation"]
    matrix, total = art.arrays["confusion"], len(art.arrays["misclassified"])
    if total < MIN_MISTAKES:
        return []
    names = build.dataset.class_names
    taken, covered = [], 0
    for row in confused_pairs(matrix, top=PAIRS).itertuples():  # the fewest pairs that make half the mistakes
        taken.append(row)
        covered += row.total
        if covered >= total / 2:
            break
    share = covered / total
    pairs = ", ".join(f"{names[r.a]}↔{names[r.b]} ({r.total})" for r in taken)
    if share >= CLUSTER:
        text = (f"Its mistakes cluster in a few pairs of classes: {pairs} make {covered} of its {total} "
                f"mistakes ({share:.0%}).")
    else:
        text = (f"Its {total} mistakes are spread over many pairs of classes: even the commonest, {pairs}, "
                f"make only {share:.0%} of them.")
    return [Finding(text, urls.CONFUSION, "the confusion page", order=10)]
