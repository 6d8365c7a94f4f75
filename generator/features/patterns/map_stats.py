"""How test images drive each map of a layer, in the same units as the OIP objective: every
image's mean activation per map, and the largest single value anywhere."""
from __future__ import annotations

import numpy as np

from generator.model.batching import padded

from generator.model import taps

BATCH = 500


def map_means(model, layer_name: str, x: np.ndarray, batch_size: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    """(each image's mean activation per map (N, M), each map's largest value over all images (M,))."""
    import tensorflow as tf

    cut = taps.cut(model, layer_name)
    run = _compiled(model, layer_name, cut)
    shape = taps.input_shape(model)
    x = np.asarray(x, np.float32).reshape((-1,) + shape)
    channels = taps.layer(model, layer_name).channels
    mean_act = np.zeros((len(x), channels), np.float32)
    max_point = np.full(channels, -np.inf, np.float32)
    for begin in range(0, len(x), batch_size):
        batch = x[begin:begin + batch_size]
        means, peaks = run(tf.constant(padded(batch, batch_size)))  # one fixed shape: traced once
        mean_act[begin:begin + len(batch)] = means.numpy()[: len(batch)]
        # padding repeats a real image, so it cannot raise the peak
        max_point = np.maximum(max_point, peaks.numpy())
    return mean_act, max_point


def _compiled(model, layer_name: str, cut):
    import tensorflow as tf

    def make():
        activation = cut.target.activation

        @tf.function
        def run(x):
            a = activation(cut.preactivation(cut.below(x)))
            return tf.reduce_mean(a, axis=[1, 2]), tf.reduce_max(a, axis=[0, 1, 2])

        return run

    return taps.cached(model, ("map_means", layer_name), make)


def map_statistics(model, layer_name: str, x_test: np.ndarray, y_test: np.ndarray, top: int = 9,
                   batch_size: int = BATCH, classes: int | None = None) -> dict[str, np.ndarray]:
    """mean_act (N, M): each image's mean activation per map; max_point (M,): largest single value
    anywhere; best_test (M,); top_indices / top_values (M, top), descending; class_means (M, K) for
    the K classes (default: the largest label + 1), NaN for a class without images; alive (M,):
    max_point > 0.
    """
    mean_act, max_point = map_means(model, layer_name, x_test, batch_size)
    y_test = np.asarray(y_test).reshape(-1)
    channels = mean_act.shape[1]
    top = min(int(top), len(mean_act))
    order = np.argsort(-mean_act, axis=0, kind="stable")[:top].T  # (M, top), ties by image index
    classes = int(classes) if classes is not None else (int(y_test.max()) + 1 if len(y_test) else 0)
    class_means = np.full((channels, classes), np.nan, np.float32)
    for label in range(classes):
        if np.any(y_test == label):
            class_means[:, label] = mean_act[y_test == label].mean(axis=0)
    return {
        "mean_act": mean_act,
        "max_point": max_point,
        "best_test": mean_act.max(axis=0) if len(mean_act) else np.zeros(channels, np.float32),
        "top_indices": order,
        "top_values": np.take_along_axis(mean_act.T, order, axis=1),
        "class_means": class_means,
        "alive": max_point > 0,
    }
