"""Stage: per-image explanations of the decision, with their faithfulness measured.

For every misclassified test image and every image of every image set: the predicted class's
attribution by six methods (attr_core), for a mistake also that of logit(true) − logit(predicted),
their deletion and insertion curves and areas (faithfulness), the same attributions with the
network's weights randomized and their rank correlation with the trained ones, the integrated-
gradients completeness gap, and the maps of each map layer that fire most for the image.

Arrays (N images, in the order `indices`): attr/<method>, rand/<method> (N, H, W); contrast (N, H, W)
(zero for a correctly classified image); del/<method>, ins/<method> (N, STEPS+1), also for the random
order; spearman/<method> (N,) over all pixels, spearman_digit/<method> over the digit's
(non-black) ones; ig_sum, ig_gap (N,); top/<layer> and topval/<layer> (N, TOP).
"""
from __future__ import annotations

import time

import numpy as np

from generator.cache import Artifact
from generator.registry import Stage
from generator.features.explain import attr_core as core
from generator.features.explain import faithfulness as faith

NAME = "explanations"
TOP = 4           # maps per layer shown as firing most for an image
RANDOM_SEED = 20180  # the randomized network's weights (a fixed draw, independent of the build's seed)


MAX_MISTAKES = 150  # a network that errs on thousands of images gets its most confident mistakes explained


def chosen_mistakes(build) -> np.ndarray:
    """The misclassified test images explained: all of them, or the MAX_MISTAKES the network is most
    sure of (each costs about a quarter of a second here on the seed network, far more on a ResNet)."""
    evaluation = build.results["evaluation"].arrays
    wrong = evaluation["misclassified"].astype(np.int64)
    if len(wrong) <= MAX_MISTAKES:
        return wrong
    sure = evaluation["probs"][wrong].max(axis=1)
    return np.sort(wrong[np.argsort(-sure, kind="stable")[:MAX_MISTAKES]])


def chosen_images(build) -> tuple[np.ndarray, np.ndarray]:
    """(test image numbers, whether each is misclassified): the chosen mistakes, then every set image."""
    wrong = chosen_mistakes(build)
    sets = build.results.get("sets")
    extra = [sets.arrays[f"set/{s['slug']}/indices"] for s in sets.meta["sets"]] if sets is not None else []
    seen, order = set(), []
    for index in np.concatenate([wrong] + [np.asarray(e, np.int64) for e in extra]):
        if int(index) not in seen:
            seen.add(int(index))
            order.append(int(index))
    indices = np.asarray(order, np.int64)
    return indices, np.isin(indices, wrong)


def _depends(build) -> dict:
    return {"images": chosen_images(build)[0].tolist()}


def settings(fill_pixel: float) -> dict:
    return {"smooth_samples": core.SMOOTH_SAMPLES, "smooth_noise": core.SMOOTH_NOISE, "ig_steps": core.IG_STEPS,
            "patch": core.OCCLUSION_PATCH, "stride": core.OCCLUSION_STRIDE, "blur_sigma": core.BLUR_SIGMA,
            "steps": faith.STEPS, "fill_pixel": fill_pixel, "top": TOP}


def attributions(s: core.Scorer, x: np.ndarray, w: np.ndarray, pixel_range) -> dict[str, np.ndarray]:
    """{method: (N, H, W)} for the scores `w` (N, K); black is pixel_range[0] (standardized)."""
    black = np.full_like(x, pixel_range[0])
    out = {"gradient": core.vanilla(s, x, w), "SmoothGrad": core.smoothgrad(s, x, w, pixel_range),
           "IG, black baseline": core.integrated(s, x, w, black),
           "IG, blurred baseline": core.integrated(s, x, w, core.blurred(x)),
           "occlusion": core.occlusion(s, x, w, pixel_range[0])}
    if s.cam_layer is not None:
        out["Grad-CAM"] = s.gradcam(x, w)
    return out


def randomized(model, seed: int = RANDOM_SEED):
    """Context: the model's trainable weights replaced by Gaussian noise of each array's own mean and
    std, restored afterwards (the compiled functions read the variables, so they see the noise). The
    non-trainable ones (BatchNormalization's running mean and variance) stay: noise there makes a
    negative variance, and every attribution NaN, which would say nothing about the method."""
    import contextlib

    @contextlib.contextmanager
    def swap():
        variables = list(model.trainable_weights)
        trained = [np.asarray(v.numpy()) for v in variables]
        rng = np.random.default_rng(seed)
        for v, w in zip(variables, trained):
            v.assign(rng.normal(w.mean(), w.std() or 1.0, w.shape).astype(w.dtype))
        try:
            yield
        finally:
            for v, w in zip(variables, trained):
                v.assign(w)

    return swap()


def _probability(s: core.Scorer, n_classes: int):
    def probability(rows: np.ndarray, classes: np.ndarray) -> np.ndarray:
        logits = core.chunked(lambda v, _w: s._forward(v), rows, np.eye(n_classes, dtype=np.float32)[classes])
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (p / p.sum(axis=1, keepdims=True))[np.arange(len(rows)), classes]

    return probability


def _top_maps(model, x: np.ndarray) -> dict[str, np.ndarray]:
    from generator.model import taps

    names = [info.name for info in taps.map_layers(model)]
    arrays = {}
    for name, a in taps.outputs(model, names, x).items():
        mean = a.mean(axis=(1, 2))
        top = np.argsort(-mean, axis=1, kind="stable")[:, :TOP]
        arrays[f"top/{name}"], arrays[f"topval/{name}"] = top, np.take_along_axis(mean, top, axis=1)
    return arrays


def _compute(build) -> Artifact:
    from generator.model import taps

    start, cpu = time.perf_counter(), time.process_time()
    model, n_classes = build.model, build.dataset.n_classes
    indices, wrong = chosen_images(build)
    if not len(indices):  # no mistakes and no image sets: nothing to explain (the section stays out)
        build.log(f"[{NAME}] no mistakes and no set images: nothing to explain")
        return Artifact("", {"indices": indices, "wrong": wrong}, {"methods": [], "seconds": 0.0})
    x = build.x_test()[indices]
    probs = build.results["evaluation"].arrays["probs"][indices]
    pred, true = probs.argmax(axis=1), build.dataset.y_test[indices].astype(np.int64)
    eye = np.eye(n_classes, dtype=np.float32)
    cam = taps.map_layers(model)[-1].name if taps.chain(model) is not None else None
    s = core.Scorer(model, cam)
    fill = build.pixel_range()[0]
    attr = attributions(s, x, eye[pred], build.pixel_range())
    contrast = np.zeros(x.shape[:3], np.float32)
    if wrong.any():
        black = np.full_like(x[wrong], fill)
        contrast[wrong] = core.integrated(s, x[wrong], eye[true[wrong]] - eye[pred[wrong]], black)
    with randomized(model):
        rand = attributions(s, x, eye[pred], build.pixel_range())
    arrays = {"indices": indices, "wrong": wrong, "pred": pred, "true": true, "probs": probs, "contrast": contrast}
    arrays |= _curves(s, x, pred, attr, fill, n_classes)
    for m in attr:
        arrays[f"attr/{m}"], arrays[f"rand/{m}"] = attr[m], rand[m]
        arrays[f"spearman/{m}"] = faith.spearman(attr[m], rand[m])
        arrays[f"spearman_digit/{m}"] = faith.spearman(attr[m], rand[m], where=x.max(axis=-1) > fill)
    ig = attr["IG, black baseline"].reshape(len(x), -1).sum(axis=1)
    gap = s.scores(x, eye[pred]) - s.scores(np.full_like(x, fill), eye[pred])
    arrays |= {"ig_sum": ig, "ig_gap": gap} | _top_maps(model, x)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    build.log(f"[{NAME}] {len(x)} images in {seconds:.1f} s ({cpu:.1f} s of CPU time over all threads)")
    return Artifact("", arrays, {"methods": list(attr), "cam_layer": cam, "settings": settings(fill),
                                 "seconds": seconds, "cpu_seconds": cpu})


def _curves(s, x, pred, attr, fill, n_classes) -> dict[str, np.ndarray]:
    """Every method's deletion and insertion curves (and the random order's) in one batched call."""
    scores = dict(attr) | {faith.RANDOM: np.random.default_rng(0).random(x.shape[:3])}
    keys = [(kind, m) for m in scores for kind in ("del", "ins")]
    rows = np.concatenate([faith.curve_images(x, faith.orders(scores[m]), fill, kind == "ins") for kind, m in keys])
    p = _probability(s, n_classes)(rows, np.tile(np.repeat(pred, faith.STEPS + 1), len(keys)))
    p = p.reshape(len(keys), len(x), faith.STEPS + 1)
    return {f"{kind}/{m}": p[j] for j, (kind, m) in enumerate(keys)}


STAGE = Stage(NAME, _compute, _depends, requires=("evaluation", "sets"))
