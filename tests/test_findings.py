"""What the index says it found: each finding's number recomputed here from the model and the data, not
read from the gallery's results, and each rule's other branch absent.

The quick site (the seed network) is one model; tests/test_input_contract.py's tutorial model is the
other (check_findings is called on its gallery too), so two different models meet the same rules.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np

MAP_CLASSES = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")


def findings_of(site: Path) -> list[str]:
    block = re.search(r'<section class="findings".*?</section>', (site / "index.html").read_text(), re.S)
    if block is None:
        return []
    items = re.findall(r"<li>(.*?)</li>", block.group(0), re.S)
    return [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", i))).strip() for i in items]


def _one(found: list[str], start: str) -> str | None:
    hits = [f for f in found if f.startswith(start)]
    assert len(hits) <= 1, hits
    return hits[0] if hits else None


def check_findings(site: Path, model_file: Path, x: np.ndarray, y: np.ndarray, names: list[str]) -> list[str]:
    """Recompute every rule on (model, x, y) and compare with the index; returns the findings."""
    import keras

    found = findings_of(site)
    model = keras.saving.load_model(model_file)
    pred = model.predict(x, verbose=0).argmax(axis=1)
    _check_confusion(found, pred, y, names)
    _check_quiet_maps(found, model, x)
    _check_layers(found, model, x, y, pred)
    _check_most_needed(found, model, x, y, pred)
    return found


def _check_confusion(found, pred, y, names) -> None:
    wrong = pred != y
    cluster, spread = _one(found, "Its mistakes cluster"), _one(found, f"Its {int(wrong.sum())} mistakes are spread")
    if wrong.sum() < 5:
        assert cluster is None and spread is None, found
        return
    pairs = {}
    for t, p in zip(y[wrong], pred[wrong]):
        key = (min(t, p), max(t, p))
        pairs[key] = pairs.get(key, 0) + 1
    ranked = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
    taken, covered = [], 0
    for pair, count in ranked[:3]:
        taken.append((pair, count))
        covered += count
        if covered >= wrong.sum() / 2:
            break
    words = ", ".join(f"{names[a]}↔{names[b]} ({c})" for (a, b), c in taken)
    if covered / wrong.sum() >= 0.3:
        assert spread is None and cluster == (f"Its mistakes cluster in a few pairs of classes: {words} make {covered} "
                                              f"of its {int(wrong.sum())} mistakes ({covered / wrong.sum():.0%}). "
                                              f"the confusion page"), (cluster, words)
    else:
        assert cluster is None and spread is not None and words in spread, (spread, words)


def _map_layers(model):
    return [lay for lay in model.layers if lay.__class__.__name__ in MAP_CLASSES]


def _check_quiet_maps(found, model, x) -> None:
    import keras

    layers = _map_layers(model)
    sub = keras.Model(model.inputs, [lay.output for lay in layers])
    outs = sub.predict(x, verbose=0, batch_size=500)
    outs = outs if isinstance(outs, list) else [outs]
    quiet = {lay.name: int(np.sum(o.mean(axis=(1, 2)).max(axis=0) <= 0)) for lay, o in zip(layers, outs)}
    total, n = sum(o.shape[-1] for o in outs), sum(quiet.values())
    if n == 0:
        assert _one(found, f"Every one of its {total} maps fires") is not None, found
        assert not any("never fire" in f for f in found)
    else:
        where = ", ".join(f"{name} {k}" for name, k in quiet.items() if k)
        verb = "fires" if n == 1 else "fire"
        assert _one(found, f"{n} of its {total} maps never {verb} on a test image ({where});") is not None, (found, where)


def _check_layers(found, model, x, y, pred) -> None:
    """The most and least needed layer, by the mean cost of switching off each of its maps, recomputed by
    zeroing every map's weights (small models only: one prediction per map)."""
    line = _one(found, "Switched off one at a time,")
    layers = _map_layers(model)
    if sum(lay.get_weights()[0].shape[-1] for lay in layers) > 64:
        return
    right, mean = int((pred == y).sum()), {}
    for target in layers:
        weights = target.get_weights()
        lost = []
        for m in range(weights[0].shape[-1]):
            kernel, bias = (w.copy() for w in weights)
            kernel[..., m], bias[m] = 0.0, 0.0
            target.set_weights([kernel, bias])
            lost.append(right - int((model.predict(x, verbose=0).argmax(axis=1) == y).sum()))
        target.set_weights(weights)
        mean[target.name] = float(np.mean(lost))
    most, least = max(mean, key=mean.get), min(mean, key=mean.get)
    holds = mean[most] > 0 and mean[most] >= 2 * max(mean[least], 0.0)
    if not holds:
        assert line is None, (line, mean)
        return
    assert line is not None and line.startswith(f"Switched off one at a time, {most}'s maps cost the decision most "
                                                f"({100 * mean[most] / len(y):.3f} points"), (line, mean)
    assert f"and {least}'s least ({100 * mean[least] / len(y):.3f})" in line, (line, mean)


def _check_most_needed(found, model, x, y, pred) -> None:
    """The stated map switched off (its kernel and bias zeroed: 0 after a ReLU) costs the stated images."""
    line = next((f for f in found if f.startswith(("No single map is indispensable", "It leans on single maps",
                                                   "No map is needed alone"))), None)
    assert line is not None, found
    right = int((pred == y).sum())
    if line.startswith("No map is needed alone"):
        for target in _map_layers(model):
            weights = target.get_weights()
            for m in range(weights[0].shape[-1]):
                kernel, bias = (w.copy() for w in weights)
                kernel[..., m], bias[m] = 0.0, 0.0
                target.set_weights([kernel, bias])
                assert int((model.predict(x, verbose=0).argmax(axis=1) == y).sum()) >= right, (target.name, m)
            target.set_weights(weights)
        return
    layer, m, points, images = re.search(r"(\w+) map (\d+)(?: alone|,) costs ([\d.]+) points of test accuracy \((\d+) of",
                                         line).groups()
    target = model.get_layer(layer)
    kernel, bias = target.get_weights()
    kernel[..., int(m)], bias[int(m)] = 0.0, 0.0
    target.set_weights([kernel, bias])
    lost = right - int((model.predict(x, verbose=0).argmax(axis=1) == y).sum())
    assert lost == int(images) and abs(100 * lost / len(y) - float(points)) < 0.006, (line, lost)
    assert line.startswith("No single map" if float(points) < 1.0 else "It leans on")


def test_the_seed_networks_findings(quick_site, quick_test_set):
    model_file, x, y = quick_test_set
    found = check_findings(quick_site, model_file, x, y, [str(d) for d in range(10)])
    verdict = _one(found, "Believe") or _one(found, "No attribution method earns trust")
    assert verdict is not None, found
    # the verdict's rule, recomputed from the explanation page's own table of means
    rows = _method_table(quick_site / "explain" / "index.html")
    random_score = rows.pop("random order")[0]
    trusted = {m: r for m, r in rows.items() if r[1] < 0.5 and r[0] > random_score}
    if trusted:
        best = max(trusted, key=lambda m: trusted[m][0])
        assert verdict.startswith(f"Believe {best} for this model"), (verdict, trusted)
    else:
        assert verdict.startswith("No attribution method earns trust"), (verdict, rows)
    for f in found:  # every finding links to a page of the site
        assert f.endswith(("the confusion page", "the explanations", "the layers at a glance", "'s maps", "the image sets", "'s ablation")) or \
            re.search(r"map \d+$", f), f


def _method_table(page: Path) -> dict[str, tuple[float, float]]:
    """{method: (insertion − deletion, ρ)} from the summary page's table."""
    out = {}
    table = re.search(r'<table class="num-table">.*?</table>', page.read_text(), re.S).group(0)  # the means
    for row in re.findall(r"<tr[^>]*><td>(.*?)</td>(.*?)</tr>", table, re.S):
        cells = [html.unescape(c) for c in re.findall(r'<td class="n">(.*?)</td>', row[1])]
        if len(cells) >= 5:
            score = float(cells[2].replace("−", "-"))
            rho = float(cells[4]) if cells[4] not in ("—", "n/a") else float("nan")
            out[html.unescape(row[0])] = (score, rho)
    return out


def test_start_here_walks_one_digit_one_map_one_mistake(quick_site, quick_test_set):
    import keras

    block = re.search(r'<section class="tour".*?</section>', (quick_site / "index.html").read_text(), re.S).group(0)
    steps = re.findall(r'<li>(.*?) <a href="([^"]+)">', block, re.S)
    assert [s[0].split(":")[0] for s in steps] == ["Follow one digit through the network", "Then one map",
                                                   "Then one mistake"], steps
    assert all((quick_site / url).is_file() for _, url in steps)
    # the map step: the share of test images it says fire the map is the map page's own count
    said = int(re.search(r"it fires on (\d+)% of the test images", steps[1][0]).group(1))
    fired = int(re.search(r"Fires on ([\d,]+) of the 2,000", _plain(quick_site / steps[1][1])).group(1).replace(",", ""))
    assert said == round(100 * fired / 2000)
    # the mistake step: the misclassified test image the model is most sure of, recomputed
    model_file, x, y = quick_test_set
    probs = keras.saving.load_model(model_file).predict(x, verbose=0)
    wrong = np.flatnonzero(probs.argmax(axis=1) != y)
    most = int(wrong[np.lexsort((wrong, -probs[wrong].max(axis=1)))][0])
    assert f"test image #{most}," in steps[2][0], (steps[2][0], most)
    guide = (quick_site / "guide.html").read_text()
    assert 'rel="external noopener">“A simple CNN for the MNIST dataset”' in guide and 'href="index.html#start"' in guide


def _plain(page: Path) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())))


def test_the_set_comparison_finding_recomputed(quick_site, quick_test_set):
    import keras

    line = next(f for f in findings_of(quick_site) if "Clear 4s vs Clear 9s:" in f)
    model_file, x, y = quick_test_set
    model = keras.saving.load_model(model_file)
    sub = keras.Model(model.inputs, [model.get_layer("Conv2D_3").output, model.get_layer("Dense_1").output])

    def images(slug):
        found = re.findall(r"image-(\d{5})\.html", (quick_site / "sets" / slug / "index.html").read_text())
        return sorted(set(int(i) for i in found))

    a, b = (sub.predict(x[images(s)], verbose=0) for s in ("clear-4s", "clear-9s"))
    counts = []
    for k in range(2):  # threshold 0.2 of the layer's largest value over both sets (activations.threshold)
        cut = 0.2 * max(a[k].max(), b[k].max())
        on_a, on_b = a[k] > cut, b[k] > cut
        counts.append(int((on_a.all(0) & ~on_b.any(0)).sum() + (on_b.all(0) & ~on_a.any(0)).sum()))
    assert f"Clear 4s vs Clear 9s: {counts[1]} of 100 nodes ({counts[1] / 100:.1%}) against {counts[0]:,} of 1,152 " \
        f"points ({counts[0] / 1152:.1%})" in line, (line, counts)
    shares = (counts[1] / 100, counts[0] / 1152)
    how = "more sharply" if shares[0] >= 1.5 * shares[1] else "less sharply" if shares[1] >= 1.5 * shares[0] else "about as"
    assert line.startswith(f"Dense_1 tells this compared pair of image sets apart {how}"), line
