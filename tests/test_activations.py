"""Activation grids, image-set rules and class comparisons, checked against hand computation."""
from __future__ import annotations

import numpy as np
import pytest

from generator.features.sets.activations import grid_layout, layer_activations, layer_scales, merge_activations
from generator.features.sets.compare import compare_sets
from generator.features.sets.image_sets import resolve_set, slug, validate_sets
from generator.config.activations import ActivationsConfig, ComparisonConfig, ImageSetConfig, SetRule
from generator.errors import UserError

SHOWN = ["Conv2D_1", "Max_Pool_1", "Conv2D_2", "Max_Pool_2", "Conv2D_3", "Dense_1", "Dense_2"]


@pytest.fixture(scope="module")
def tiny():
    """The seed network with seeded random weights and a non-zero bias, plus three images."""
    import keras

    from generator.model.architecture import build_model

    keras.utils.set_random_seed(7)
    model = build_model()
    conv = model.get_layer("Conv2D_1")
    # A zero bias (keras' default) would let a wrong bias handling pass unnoticed.
    conv.bias.assign(np.linspace(-0.3, 0.3, 32).astype(np.float32))
    images = np.random.default_rng(3).normal(size=(3, 28, 28, 1)).astype(np.float32)
    return model, images, layer_activations(model, images, batch_size=2)


# (a) one Conv2D_1 value, recomputed by hand --------------------------------------------------

def hand_conv(image: np.ndarray, kernel: np.ndarray, bias: float, i: int, j: int) -> float:
    """Valid 3×3 cross-correlation of one map at output (i, j), plus bias, through ReLU."""
    patch = image[i:i + 3, j:j + 3, 0].astype(np.float64)
    return max(0.0, float((patch * kernel[:, :, 0].astype(np.float64)).sum()) + bias)


def test_conv2d_1_value_matches_hand_computation_and_grid_pixel(tiny):
    model, images, acts = tiny
    kernel, bias = (np.asarray(w) for w in model.get_layer("Conv2D_1").get_weights())
    image_no, map_no = 1, 13
    # The largest value of that map, so the check is not a trivial ReLU zero.
    i, j = np.unravel_index(np.argmax(acts["Conv2D_1"][image_no, :, :, map_no]), (26, 26))
    expected = hand_conv(images[image_no], kernel[:, :, :, map_no], float(bias[map_no]), i, j)
    assert expected > 0
    assert acts["Conv2D_1"][image_no, i, j, map_no] == pytest.approx(expected, rel=1e-5, abs=1e-5)

    tiled, positions = grid_layout(acts["Conv2D_1"][image_no])
    row0, col0, h, w = positions[map_no]
    assert (h, w) == (26, 26)
    assert (row0, col0) == (1 * 27, 5 * 27)  # map 13 is row 1, column 5 of 8
    assert tiled[row0 + i, col0 + j] == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_relu_zero_where_hand_preactivation_is_negative(tiny):
    model, images, acts = tiny
    kernel, bias = (np.asarray(w) for w in model.get_layer("Conv2D_1").get_weights())
    zeros = np.argwhere(acts["Conv2D_1"][0, :, :, 2] == 0)
    assert len(zeros) > 0
    i, j = zeros[0]
    patch = images[0, i:i + 3, j:j + 3, 0]
    assert float((patch * kernel[:, :, 0, 2]).sum()) + float(bias[2]) <= 1e-6


def test_every_shown_layer_has_its_seed_shape(tiny):
    _, _, acts = tiny
    shapes = {name: a.shape[1:] for name, a in acts.items()}
    assert list(acts) == SHOWN
    assert shapes == {"Conv2D_1": (26, 26, 32), "Max_Pool_1": (13, 13, 32), "Conv2D_2": (11, 11, 64),
                      "Max_Pool_2": (5, 5, 64), "Conv2D_3": (3, 3, 128), "Dense_1": (100,),
                      "Dense_2": (10,)}
    assert np.allclose(acts["Dense_2"].sum(axis=1), 1.0, atol=1e-5)


# (d) grid shapes ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, grid", [
    ((26, 26, 32), (4 * 26 + 3, 8 * 26 + 7)),
    ((13, 13, 32), (4 * 13 + 3, 8 * 13 + 7)),
    ((11, 11, 64), (8 * 11 + 7, 8 * 11 + 7)),
    ((5, 5, 64), (8 * 5 + 7, 8 * 5 + 7)),
    ((3, 3, 128), (16 * 3 + 15, 8 * 3 + 7)),
    ((100,), (10, 10)),
    ((10,), (1, 10)),
])
def test_grid_shapes(shape, grid):
    values = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    tiled, positions = grid_layout(values)
    assert tiled.shape == grid
    assert len(positions) == shape[-1]
    # Every value lands once; everything else is a NaN separator.
    assert np.count_nonzero(~np.isnan(tiled)) == values.size
    for k, (row0, col0, h, w) in enumerate(positions):
        block = values[..., k] if values.ndim == 3 else values[k:k + 1].reshape(1, 1)
        assert np.array_equal(tiled[row0:row0 + h, col0:col0 + w], block)


def test_separators_are_nan_rows_and_columns():
    tiled, _ = grid_layout(np.ones((26, 26, 32)))
    assert np.isnan(tiled[26]).all() and np.isnan(tiled[:, 26]).all()
    assert not np.isnan(tiled[25, :26]).any() and not np.isnan(tiled[27, 27:53]).any()


def test_grid_of_a_boolean_mask_is_zero_one():
    mask = np.zeros((5, 5, 64), dtype=bool)
    mask[2, 3, 9] = True
    tiled, positions = grid_layout(mask)
    row0, col0, _, _ = positions[9]
    assert tiled[row0 + 2, col0 + 3] == 1.0 and np.nansum(tiled) == 1.0


def test_layer_scales_raw_and_standardized():
    a = {"L": np.array([[0.0, 1.0, 2.0]]), "dead": np.zeros((2, 3))}
    b = {"L": np.array([[3.0, 0.0, 6.0]]), "dead": np.zeros((1, 3))}
    page = merge_activations(a, b)
    raw = layer_scales(page, "raw")
    assert raw == {"L": (0.0, 6.0), "dead": (0.0, 1.0)}
    std = layer_scales(page, "standardized")
    values = page["L"].ravel()
    mean, sd = values.mean(), values.std()
    z_max = np.abs((values - mean) / sd).max()
    vmin, vmax = std["L"]
    assert (vmin + vmax) / 2 == pytest.approx(mean)  # the layer mean sits at the centre
    assert (vmax - mean) / sd == pytest.approx(z_max)
    assert std["dead"] == (-1.0, 1.0)
    with pytest.raises(ValueError):
        layer_scales(page, "log")


# (b) common / distinct marking -------------------------------------------------------------

def test_compare_dense_layer_constructed_case():
    # Layer max over both sets is 10, threshold 0.5 -> active means > 5.
    a = np.array([[9.0, 8.0, 0.0, 7.0, 5.0, 6.0],
                  [9.0, 1.0, 0.0, 6.0, 9.0, 6.0]])
    b = np.array([[0.0, 0.0, 10.0, 8.0, 0.0, 5.0],
                  [0.0, 0.0, 9.0, 9.0, 0.0, 5.0],
                  [0.0, 0.0, 8.0, 6.0, 0.0, 0.0]])
    result = compare_sets({"Dense_1": a}, {"Dense_1": b}, threshold=0.5)["Dense_1"]
    # node 0: only_a. node 1: active in one A image only -> nothing. node 2: only_b.
    # node 3: common. node 4: 5.0 equals the cutoff (not above) in A -> nothing.
    # node 5: active in all A; B's 5.0 sits exactly on the cutoff, so inactive -> only_a.
    assert result["cutoff"] == 5.0 and result["layer_max"] == 10.0
    assert result["only_a"].tolist() == [True, False, False, False, False, True]
    assert result["only_b"].tolist() == [False, False, True, False, False, False]
    assert result["common"].tolist() == [False, False, False, True, False, False]
    assert result["counts"] == {"only_a": 2, "only_b": 1, "common": 1, "points": 6}
    table = result["by_map"]
    assert list(table.columns) == ["node", "only_a", "only_b", "common", "distinct", "mean_a", "mean_b"]
    # All three hold one distinct point; mean gaps 9, 9, 2.67 and the tie goes to the lower node.
    assert table["node"].tolist()[:3] == [0, 2, 5]


def test_compare_conv_layer_masks_and_map_ranking():
    a = np.zeros((2, 4, 4, 3))
    b = np.zeros((2, 4, 4, 3))
    a[:, 0, 0, 1] = a[:, 1, 1, 1] = 4.0     # map 1: two only_a points
    b[:, 2, 2, 0] = 4.0                     # map 0: one only_b point
    a[:, 3, 3, 2] = b[:, 3, 3, 2] = 2.0     # map 2: one common point
    a[0, 3, 0, 2] = 4.0                     # active in one A image only: not marked
    result = compare_sets({"C": a}, {"C": b}, threshold=0.25)["C"]  # cutoff 1.0
    assert result["only_a"].shape == (4, 4, 3)
    assert set(map(tuple, np.argwhere(result["only_a"]))) == {(0, 0, 1), (1, 1, 1)}
    assert set(map(tuple, np.argwhere(result["only_b"]))) == {(2, 2, 0)}
    assert set(map(tuple, np.argwhere(result["common"]))) == {(3, 3, 2)}
    table = result["by_map"]
    assert table["map"].tolist() == [1, 0, 2]
    assert table.set_index("map").loc[1, "only_a"] == 2


def test_threshold_zero_marks_any_positive_and_one_marks_nothing():
    a = {"D": np.array([[0.1, 0.0, 2.0]])}
    b = {"D": np.array([[0.0, 0.0, 2.0]])}
    zero = compare_sets(a, b, 0.0)["D"]
    assert zero["only_a"].tolist() == [True, False, False]
    assert zero["common"].tolist() == [False, False, True]
    one = compare_sets(a, b, 1.0)["D"]  # nothing is above the layer's own maximum
    assert one["counts"] == {"only_a": 0, "only_b": 0, "common": 0, "points": 3}


# (c) image-set rules ---------------------------------------------------------------------------

# Ten test images; columns are P(class 0..3) (probabilities beyond class 3 are zero).
PROBS = np.array([
    [0.10, 0.70, 0.10, 0.10],   # 0: label 1, right, p1 .70
    [0.90, 0.05, 0.05, 0.00],   # 1: label 0
    [0.05, 0.40, 0.50, 0.05],   # 2: label 1, predicted 2 (.50)
    [0.00, 0.95, 0.05, 0.00],   # 3: label 1, p1 .95
    [0.00, 0.30, 0.00, 0.70],   # 4: label 1, predicted 3 (.70)
    [0.00, 0.70, 0.30, 0.00],   # 5: label 1, p1 .70 (ties with 0)
    [0.10, 0.80, 0.10, 0.00],   # 6: label 2, predicted 1
    [0.00, 0.90, 0.10, 0.00],   # 7: label 1, p1 .90
    [0.30, 0.40, 0.30, 0.00],   # 8: label 1, p1 .40, predicted 1
    [0.00, 0.10, 0.90, 0.00],   # 9: label 2
])
PROBS = np.hstack([PROBS, np.zeros((10, 6))])
LABELS = np.array([1, 0, 1, 1, 1, 1, 2, 1, 1, 2])


def rule_set(kind: str, label: int = 1, count: int = 10, other=None) -> ImageSetConfig:
    return ImageSetConfig(name="s", rule=SetRule(kind=kind, label=label, other=other, count=count))


@pytest.mark.parametrize("kind, other, count, expected", [
    ("first", None, 3, [0, 2, 3]),
    ("first", None, 10, [0, 2, 3, 4, 5, 7, 8]),
    ("most_confident", None, 4, [3, 7, 0, 5]),           # .95 .90 .70 .70 (tie -> lower number)
    ("least_confident", None, 4, [4, 2, 8, 0]),          # .30 .40(#2) .40(#8) .70
    ("misclassified", None, 10, [4, 2]),                 # mistakes at .70 and .50
    ("closest_to", 2, 3, [2, 5, 8]),                     # P(2): .50 .30(#5) .30(#8)
    ("closest_to", 3, 2, [4, 0]),                        # P(3): .70 .10
])
def test_rules(kind, other, count, expected):
    chosen = resolve_set(rule_set(kind, other=other, count=count), PROBS, LABELS, n_test=10)
    assert chosen.dtype == np.int64
    assert chosen.tolist() == expected


def test_rules_are_deterministic():
    cfg = rule_set("least_confident")
    runs = {tuple(resolve_set(cfg, PROBS, LABELS, 10)) for _ in range(3)}
    assert len(runs) == 1


def test_rule_with_no_matching_images_is_a_user_error():
    with pytest.raises(UserError, match="misclassifies no test image of class 0"):
        resolve_set(rule_set("misclassified", label=0), PROBS, LABELS, 10)
    with pytest.raises(UserError, match="no test image has class 5"):
        resolve_set(rule_set("first", label=5), PROBS, LABELS, 10)


def test_explicit_indices_keep_their_order_and_need_no_predictions():
    cfg = ImageSetConfig(name="mine", indices=[9, 0, 4])
    assert resolve_set(cfg, None, None, n_test=10).tolist() == [9, 0, 4]


def test_out_of_range_and_negative_indices():
    big = ImageSetConfig(name="clear_4s", indices=[3, 12000])
    with pytest.raises(UserError) as err:
        resolve_set(big, None, None, n_test=10000)
    assert str(err.value) == "image set 'clear_4s': test image 12000 is out of range (0..9999)"
    negative = ImageSetConfig(name="clear_4s", indices=[-1])
    with pytest.raises(UserError, match=r"test image -1 is out of range \(0\.\.9999\)"):
        resolve_set(negative, None, None, n_test=10000)
    edge = ImageSetConfig(name="edge", indices=[9999])
    with pytest.raises(UserError, match="test image 10000"):
        resolve_set(ImageSetConfig(name="edge", indices=[10000]), None, None, n_test=10000)
    assert resolve_set(edge, None, None, n_test=10000).tolist() == [9999]


# validation and slugs -------------------------------------------------------------------------

def sets_cfg(*names, comparisons=()):
    return ActivationsConfig(image_sets=[ImageSetConfig(name=n, indices=[0]) for n in names],
                             comparisons=[ComparisonConfig(a=a, b=b) for a, b in comparisons])


def test_validate_accepts_a_good_config():
    validate_sets(sets_cfg("clear 4s", "4s like 9s", comparisons=[("clear 4s", "4s like 9s")]))


@pytest.mark.parametrize("cfg, message", [
    (sets_cfg(""), "needs a name"),
    (sets_cfg("a", "a"), "'a' is defined twice"),
    (sets_cfg("Clear 4s", "clear-4s"), "would share the file name 'clear-4s'"),
    (sets_cfg("a", "b", comparisons=[("a", "c")]), r"comparisons\[0\]\.b: no image set named 'c'"),
    (sets_cfg("a", comparisons=[("a", "a")]), "with itself"),
    (ActivationsConfig(image_sets=[ImageSetConfig(name="x")]), "either indices or a rule"),
    (ActivationsConfig(image_sets=[ImageSetConfig(name="x", indices=[])]), "indices is empty"),
    (ActivationsConfig(image_sets=[rule_set("closest_to")]), "needs 'other'"),
    (ActivationsConfig(image_sets=[rule_set("closest_to", other=1)]), "different from 'label'"),
])
def test_validate_rejects(cfg, message):
    with pytest.raises(UserError, match=message):
        validate_sets(cfg)


def test_slug():
    assert slug("Clear 4s (easy)") == "clear-4s-easy"
    assert slug("4s_like_9s") == "4s-like-9s"
    assert slug("Café") == "cafe"
    assert slug("★★") == slug("★★") and slug("★★").startswith("set-")
    assert slug("★★") != slug("☆☆")
