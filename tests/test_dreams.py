"""DeepDream: picture loading, the carving arithmetic, batched carving and layer dreams on a tiny model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.features.dreams import carving, stage as dreams
from generator.features.dreams import dream_picture as dp
from generator.features.dreams import layer_dream
from generator.model import taps
from generator.config.dreams import DreamsConfig, LayerDreamConfig
from generator.config.oip import OIPConfig
from generator.errors import UserError

MEAN, STD = 33.3, 78.6
PIXEL_RANGE = ((0 - MEAN) / STD, (255 - MEAN) / STD)


@pytest.fixture(scope="module")
def tiny():
    """The seed network with seeded random weights (no training)."""
    import keras

    from generator.model.architecture import build_model

    keras.utils.set_random_seed(11)
    return build_model()


@pytest.fixture(scope="module")
def picture():
    return dp.load_picture(None, 84, Path("."))


# ---- the picture -------------------------------------------------------------------------------

def test_default_picture_is_square_gray_in_pixel_range():
    p = dp.load_picture(None, 56, Path("."))
    assert p.shape == (56, 56) and p.dtype == np.float64
    assert 0.0 <= p.min() < 60 and 200 < p.max() <= 255.0  # a real photograph: dark and light parts


def test_colour_png_with_alpha_and_relative_path(tmp_path):
    rgba = np.zeros((30, 50, 4), np.uint8)
    rgba[..., 0] = 255          # red ...
    rgba[:, :25, 3] = 255       # ... opaque on the left half, transparent (white) on the right
    Image.fromarray(rgba, "RGBA").save(tmp_path / "pic.png")
    p = dp.load_picture("pic.png", 28, tmp_path)
    assert p.shape == (28, 28)
    assert p[:, 0].mean() == pytest.approx(76, abs=2)   # pure red in gray (ITU-R 601 luma)
    assert p[:, -1].mean() == pytest.approx(255, abs=1)  # transparent on white


@pytest.mark.parametrize("content, name", [(b"this is not a picture", "notes.jpg"), (b"", "empty.png")])
def test_a_file_that_is_not_a_picture_is_one_line_naming_it(tmp_path, content, name):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UserError) as err:
        dp.load_picture(str(tmp_path / name), 28, tmp_path)
    assert name in str(err.value) and "\n" not in str(err.value)


def test_other_formats_and_missing_files_are_refused(tmp_path):
    Image.new("L", (10, 10)).save(tmp_path / "pic.gif")
    with pytest.raises(UserError, match="pic.gif.*not a JPEG or PNG"):
        dp.load_picture("pic.gif", 28, tmp_path)
    with pytest.raises(UserError, match="no such file.*nope.png"):
        dp.load_picture("nope.png", 28, tmp_path)


# ---- carving arithmetic ----------------------------------------------------------------------------

def test_detail_restores_the_picture(picture):
    small, detail = dp.split_detail(picture, 28)
    assert small.shape == (28, 28)
    assert np.abs(detail).max() > 1  # something is lost by scaling down ...
    np.testing.assert_allclose(dp.add_detail(small, detail), picture, rtol=0, atol=1e-9)  # ... and comes back


@pytest.mark.parametrize("offset", [(0, 0), (5, 17), (27, 1)])
def test_tiles_cut_and_join_back(picture, offset):
    tiles = dp.cut_tiles(picture, offset, 28)
    assert tiles.shape == (9, 28, 28)
    np.testing.assert_array_equal(dp.join_tiles(tiles, picture.shape, offset), picture)
    if offset == (0, 0):
        np.testing.assert_array_equal(tiles[4], picture[28:56, 28:56])  # row by row


def test_random_offsets_stay_inside_a_tile():
    offsets = dp.random_offsets(50, seed=3, tile=28)
    assert offsets.shape == (50, 2) and offsets.min() >= 0 and offsets.max() < 28
    assert len({tuple(o) for o in offsets}) > 10


@pytest.mark.parametrize("tiles", [1, 3])
def test_zero_steps_give_back_the_picture_exactly(tiny, picture, tiles):
    cfg = OIPConfig(steps=0, noise_scales=[1])
    out = carving.carve(tiny, "Conv2D_3", [0, 5], picture, 3, cfg, PIXEL_RANGE, (MEAN, STD), seed=1, tiles=tiles)
    assert out["result"].shape == (2, 3, 84, 84)
    for m in range(2):
        for r in range(3):
            np.testing.assert_allclose(out["result"][m, r], picture, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out["act"][..., 0], out["act"][..., 1], rtol=1e-6)


# ---- carving on a tiny model ---------------------------------------------------------------------

def _live_maps(model, picture, count):
    """Maps of Conv2D_3 that the tiny model's small picture already activates a little."""
    small = dp.resize(picture, 28)
    x = ((small - MEAN) / STD)[None, ..., None].astype(np.float32)
    acts = np.asarray(taps.submodel(model, ["Conv2D_3"], spatial=False)(x, training=False))[0]
    return [int(m) for m in np.argsort(-acts.mean(axis=(0, 1)))[:count]]


def test_every_carving_round_raises_the_maps_activation(tiny, picture):
    maps = _live_maps(tiny, picture, 3)
    cfg = OIPConfig(steps=12, step_size=0.05, noise_scales=[1])
    out = carving.carve(tiny, "Conv2D_3", maps, picture, 3, cfg, PIXEL_RANGE, (MEAN, STD), seed=2)
    before, after = out["act"][..., 0], out["act"][..., 1]
    assert (after > before).all(), out["act"]
    # the dreamt small picture really is what the next round scaled up
    np.testing.assert_allclose(dp.resize(out["small"][0, 0], 84), out["result"][0, 0] - dp.split_detail(picture, 28)[1],
                               atol=1e-3)
    assert not np.allclose(out["result"][0, -1], picture, atol=1)


def test_all_maps_and_tiles_dream_in_one_batch_per_round(tiny, picture):
    calls = []

    def spy(model, layer, maps, rows, cfg, pixel_range, seed, progress=None):
        calls.append((list(maps), rows.shape))
        return carving.oip_ascent(model, layer, maps, rows, cfg, pixel_range, seed, progress)

    cfg = OIPConfig(steps=4, noise_scales=[1])
    carving.carve(tiny, "Conv2D_3", [1, 2, 3, 4], picture, 2, cfg, PIXEL_RANGE, (MEAN, STD), seed=3, tiles=3,
                 ascend=spy)
    assert calls == [([1, 2, 3, 4], (4 * 9, 28, 28, 1))] * 2


def test_a_map_dreams_the_same_alone_and_in_the_batch(tiny, picture):
    cfg = OIPConfig(steps=6, noise_scales=[1])
    alone = carving.carve(tiny, "Conv2D_3", [7], picture, 1, cfg, PIXEL_RANGE, (MEAN, STD), seed=4)
    batch = carving.carve(tiny, "Conv2D_3", [3, 7, 9], picture, 1, cfg, PIXEL_RANGE, (MEAN, STD), seed=4)
    np.testing.assert_allclose(alone["small"][0], batch["small"][1], atol=1e-3)


# ---- layer dreams ------------------------------------------------------------------------------------

def test_layer_dream_raises_the_objective_every_octave(tiny, picture):
    cfg = DreamsConfig(octaves=3, octave_scale=1.5, octave_steps=5, tile_size=28)
    out = layer_dream.layer_dream(tiny, {"Conv2D_2": 1.0, "Conv2D_3": 0.5}, picture, cfg, PIXEL_RANGE, (MEAN, STD), 5)
    assert layer_dream.octave_sizes((84, 84), 3, 1.5, (28, 28)) == [(37, 37), (56, 56), (84, 84)]
    assert out["frames"].shape == (3, 84, 84)
    assert (out["objective"][:, 1] > out["objective"][:, 0]).all(), out["objective"]


def _sum_gradient(model, layer: str):
    """x -> (gradient, value) of the sum of a layer's output, on inputs of any size."""
    import tensorflow as tf

    sub = taps.submodel(model, [layer], spatial=True)

    def gradient(x):
        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(sub(x))
        return tape.gradient(loss, x), loss

    return gradient


def test_tiled_gradient_matches_the_whole_picture_away_from_seams(tiny):
    """The model is fully convolutional: a tile's gradient is the picture's where no seam is near."""
    gradient = _sum_gradient(tiny, "Conv2D_1")
    x = np.random.default_rng(0).normal(size=(56, 56))
    whole = gradient(x[None, ..., None].astype(np.float32))[0].numpy()[0, ..., 0]

    class NoShift:
        @staticmethod
        def integers(lo, hi, size):
            return np.zeros(size, int)

    tiled = layer_dream.tiled_gradient(gradient, x, 28, NoShift())
    np.testing.assert_allclose(tiled[3:25, 3:25], whole[3:25, 3:25], rtol=1e-4, atol=1e-5)


# ---- choosing maps, config checks ----------------------------------------------------------------

def test_strongest_oips_rule_skips_dead_and_failed_maps():
    final = np.array([[1.0, 2.0], [5.0, 0.0], [9.0, 9.5], [0.0, 0.0], [7.0, 8.0]])
    failed = np.array([[False, False], [False, False], [True, True], [False, False], [False, True]])
    alive = np.array([True, True, False, False, True])  # map 2: every start failed; map 3: dead
    arrays = {"final": final, "failed": failed, "stat_alive": alive}
    assert dreams.strongest_oips(arrays, 3) == [4, 1, 0]  # map 4's failed start (8.0) does not count


def test_layer_dream_config_is_checked():
    with pytest.raises(UserError, match="Dense_1"):
        dreams.check_config(DreamsConfig(layer_dreams=[LayerDreamConfig("x", {"Dense_1": 1.0})]))
    with pytest.raises(UserError, match="Conv2D_7"):
        dreams.check_config(DreamsConfig(layer="Conv2D_7"))
    with pytest.raises(UserError, match="at least one layer"):
        dreams.check_config(DreamsConfig(layer_dreams=[LayerDreamConfig("x", {})]))


def _fake_build(model, cfg, results=None):
    from types import SimpleNamespace

    from dataclasses import replace

    x = np.random.default_rng(9).normal(size=(40, 28, 28, 1)).astype(np.float32)
    cfg = cfg if cfg.layer is not None else replace(cfg, layer="Conv2D_3")  # what the build resolves
    return SimpleNamespace(cfg=SimpleNamespace(dreams=cfg), model=model, results=results or {},
                           x_test=lambda: x, dataset=SimpleNamespace(x_test=x[..., 0]))


def test_without_oips_the_maps_most_active_on_test_images_dream(tiny):
    build = _fake_build(tiny, DreamsConfig(layer="Conv2D_2", count=3))
    maps, rule = dreams.choose_maps(build)
    means = dreams.test_means(tiny, "Conv2D_2", build.x_test())
    assert maps == [int(m) for m in np.argsort(-means)[:3]]
    assert means[maps[-1]] >= np.sort(means)[-3] and "did not run" in rule


def test_explicit_maps_are_checked_and_kept_in_order(tiny):
    assert dreams.choose_maps(_fake_build(tiny, DreamsConfig(maps=[5, 2, 5])))[0] == [5, 2]
    with pytest.raises(UserError, match="maps 0 to 127, got 128"):
        dreams.check_config(DreamsConfig(maps=[1, 128]))  # checked with the config, before any work


# ---- any input size, gray or colour ----------------------------------------------------------------

@pytest.fixture(scope="module")
def wide_rgb():
    """A colour model whose input is wider than tall (12×20×3), seeded random weights."""
    import keras

    keras.utils.set_random_seed(4)
    return keras.Sequential([keras.Input((12, 20, 3)), keras.layers.Conv2D(4, 3, activation="relu", name="c1"),
                             keras.layers.Conv2D(4, 3, activation="relu", name="c2"),
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, name="out")])


def test_the_picture_takes_the_models_aspect_and_channels(tmp_path):
    rgb = np.zeros((60, 60, 3), np.uint8)
    rgb[:, :, 0], rgb[:30, :, 2] = 200, 90  # red below, magenta above
    Image.fromarray(rgb).save(tmp_path / "pic.png")
    colour = dp.load_picture("pic.png", 40, tmp_path, (12, 20, 3))
    assert colour.shape == (24, 40, 3)  # the model's 12:20, the longer side 40 px
    np.testing.assert_allclose(colour[-1].mean(axis=0), [200, 0, 0], atol=1)
    np.testing.assert_allclose(colour[0].mean(axis=0), [200, 0, 90], atol=1)
    assert dp.load_picture("pic.png", 40, tmp_path, (20, 12, 1)).shape == (40, 24)  # gray, taller than wide


def test_a_wide_colour_model_carves_on_its_own_tiles(wide_rgb, tmp_path):
    picture = dp.load_picture(None, 50, tmp_path, (12, 20, 3))
    assert picture.shape == (30, 50, 3)
    still = carving.carve(wide_rgb, "c2", [0, 1], picture, 2, OIPConfig(steps=0, noise_scales=[1]), PIXEL_RANGE,
                          (MEAN, STD), seed=1, tiles=2)
    assert still["small"].shape == (2, 2, 24, 40, 3) and still["result"].shape == (2, 2, 30, 50, 3)
    np.testing.assert_allclose(still["result"], np.broadcast_to(picture, still["result"].shape), rtol=0, atol=1e-9)
    assert (still["offsets"] < [12, 20]).all()
    cfg = OIPConfig(steps=6, step_size=0.05, noise_scales=[1])
    out = carving.carve(wide_rgb, "c2", [0, 1], picture, 2, cfg, PIXEL_RANGE, (MEAN, STD), seed=1, tiles=1)
    assert out["small"].shape == (2, 2, 12, 20, 3)
    assert (out["act"][..., 1] > out["act"][..., 0]).all(), out["act"]


def test_a_wide_colour_model_dreams_in_colour(wide_rgb, tmp_path):
    picture = dp.load_picture(None, 50, tmp_path, (12, 20, 3))
    cfg = DreamsConfig(octaves=3, octave_scale=1.5, octave_steps=4, tile_size=28)
    out = layer_dream.layer_dream(wide_rgb, {"c2": 1.0}, picture, cfg, PIXEL_RANGE, (MEAN, STD), 5)
    assert out["frames"].shape == (3, 30, 50, 3)
    assert out["sizes"].tolist() == [[13, 22], [20, 33], [30, 50]]  # no side below the model's 12×20
    assert (out["objective"][:, 1] > out["objective"][:, 0]).all(), out["objective"]


def test_tiled_gradient_on_rectangular_colour_tiles(wide_rgb):
    gradient = _sum_gradient(wide_rgb, "c1")
    x = np.random.default_rng(0).normal(size=(24, 60, 3))
    whole = gradient(x[None].astype(np.float32))[0].numpy()[0]
    tiled = layer_dream.tiled_gradient(gradient, x, 30, (5, 7))  # tiles 24×30, shifted by (5, 7)
    # Seams (tile edges and the wrap-around) lie between rows 4|5 and 23|0, columns 6|7, 36|37 and 59|0; a
    # 3×3 convolution's gradient differs up to 2 px from a seam.
    away = np.s_[7:22, 9:35]
    np.testing.assert_allclose(tiled[away], whole[away], rtol=1e-4, atol=1e-5)
