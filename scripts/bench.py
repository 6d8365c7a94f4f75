"""Benchmark of the batched OIP engine against the seed's per-map eager loop.

    .venv/bin/python scripts/bench.py [--naive-maps 128] [--naive-steps 32]
    .venv/bin/python scripts/bench.py --smoke    # seconds: both engines run and agree; no speed verdict

(a) Conv2D_3: the engine and the naive loop on the same maps, start and steps; speed-up >= 100x?
(b) the full default workload: every map of the three conv layers x 4 starts x 256 steps <= 60 s?

--smoke runs (a) on 4 maps x 3 steps and (b) on 2 steps and checks only that the two engines give the
same answer (the exit code says so); the speed targets are judged only by the full run.

Warm-up (tracing and graph optimisation, or the eager loop's first calls) is timed separately and
left out of the comparison: it is paid once per process, not per map.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# MNIST training-set pixel statistics; they only set the clipping range here.
MEAN, STD = 33.32, 78.57
PIXEL_RANGE = ((0 - MEAN) / STD, (255 - MEAN) / STD)
SPEEDUP_TARGET, SECONDS_TARGET = 100.0, 60.0  # the figures the README gives for a quiet machine
SEED = 1234
ENGINE_RUNS = 5


def load_model():
    """The newest trained model in cache/model/, else a randomly initialised seed network."""
    import keras

    from generator.model.architecture import build_model

    saved = sorted((ROOT / "cache" / "model").glob("*.keras"), key=lambda p: p.stat().st_mtime)
    if saved:
        return keras.saving.load_model(saved[-1], compile=False), f"trained model {saved[-1].relative_to(ROOT)}"
    keras.utils.set_random_seed(SEED)
    return build_model(), "randomly initialised build_model() (no cache/model/*.keras found)"


def naive_oips(model, layer_name: str, cfg, pixel_range: tuple[float, float], seed: int,
               maps, steps: int) -> dict:
    """The seed's slow method, the benchmark's baseline: eager, one map and one start at a time,
    the stock Keras layers below the target.

    Same starts, jitter, blur, clipping, objective and best-keeping checkpoints as layer_oips, so
    `final` (M, S) and `patterns` (M, S, 28, 28) should agree with it up to float rounding.
    """
    import numpy as np
    import tensorflow as tf

    from generator.features.patterns.oip_engine import snapshot_steps
    from generator.ascent import render, transforms
    from generator.ascent.param import noise_starts
    from generator.model import fast_cut, taps

    began = time.perf_counter()
    cut = taps.cut(model, layer_name)
    side = taps.input_shape(model)[0]
    maps = np.asarray(maps, dtype=int).reshape(-1)
    n_starts = len(cfg.noise_scales)
    starts = noise_starts(cfg.noise_scales, maps, seed, pixel_range, side)
    blur_matrix = tf.constant(transforms.blur_matrix(float(cfg.blur_sigma), side))
    lo, hi = float(pixel_range[0]), float(pixel_range[1])

    def values(x, m):
        h = x
        for layer in cut.before:
            h = layer(h, training=False)
        z = fast_cut.stock_preactivation(cut.target, h)
        a = tf.nn.relu(z[..., m]) if cut.relu else cut.target.activation(z)[..., m]
        climb = tf.reduce_mean(z[..., m]) if cfg.objective == "preact" else tf.reduce_max(z[..., m])
        return tf.reduce_mean(a), climb

    final = np.zeros((len(maps), n_starts), np.float32)
    patterns = np.zeros((len(maps), n_starts, side, side), np.float32)
    checkpoints = render.checkpoints(snapshot_steps(steps, int(cfg.snapshots)))
    for a, m in enumerate(maps):
        for s in range(n_starts):
            x = tf.constant(starts[a * n_starts + s][None])
            best_x, best_v = x, float(values(x, int(m))[0])
            for t in range(steps):
                shift = tf.random.stateless_uniform([2], seed=tf.constant([int(seed), t], tf.int64),
                                                    minval=-int(cfg.jitter), maxval=int(cfg.jitter) + 1,
                                                    dtype=tf.int32)
                xs = tf.roll(x, shift, axis=[1, 2])
                with tf.GradientTape() as tape:
                    tape.watch(xs)
                    act, pre = values(xs, int(m))
                    objective = pre if cfg.objective == "preact" or (cut.relu and act <= 0) else act
                grad = tape.gradient(objective, xs)
                grad = grad * tf.math.rsqrt(tf.reduce_mean(tf.square(grad)) + 1e-12)
                x = tf.roll(xs + float(cfg.step_size) * grad, -shift, axis=[1, 2])
                if transforms.blur_now(t, int(cfg.blur_every)):
                    x = transforms.blur(x, blur_matrix, blur_matrix)
                x = tf.clip_by_value(x, lo, hi)
                if t + 1 in checkpoints and (v := float(values(x, int(m))[0])) >= best_v:
                    best_x, best_v = x, v
            final[a, s] = best_v
            patterns[a, s] = best_x.numpy()[0, ..., 0]
    return {"final": final, "patterns": patterns, "seconds": np.array(time.perf_counter() - began)}


def timed(fn):
    began = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - began


AGREE_TOLERANCE = 1e-2  # of the largest final activation (at least 1): float rounding through the steps, not
# a different answer (on Conv2D_3, 128 maps x 32 steps: 2.5e-3 against a largest activation of 0.76)


def compare_with_naive(model, maps: int, steps: int, smoke: bool = False) -> tuple[bool, bool]:
    """(speed-up reached, same answer)."""
    from generator.features.patterns import oip_engine
    from generator.config.oip import OIPConfig

    base = OIPConfig()
    # One start (pixel noise), no intermediate snapshots: exactly the work the naive loop does.
    cfg = replace(base, steps=steps, noise_scales=[base.noise_scales[0]], snapshots=2)
    ids = list(range(maps))
    work = maps * steps
    print(f"\n(a) Conv2D_3: {maps} maps x 1 start x {steps} steps = {work:,} image-steps, same starts and seed")

    if smoke:  # one call each: the engine's includes its tracing, so no speed is read from it
        engine, engine_run = timed(lambda: oip_engine.layer_oips(model, "Conv2D_3", cfg, PIXEL_RANGE, SEED, maps=ids))
        naive, naive_run = timed(lambda: naive_oips(model, "Conv2D_3", cfg, PIXEL_RANGE, SEED, ids, steps))
        print(f"    naive eager {naive_run:.2f} s, batched engine {engine_run:.2f} s with its tracing "
              f"(smoke run: speed not judged)")
        ok = False
    else:
        _, engine_warm = timed(lambda: oip_engine.layer_oips(model, "Conv2D_3", cfg, PIXEL_RANGE, SEED, maps=ids))
        # The engine's run is under a second, so one run is at the mercy of whatever else the shared
        # cores do in that second: the median of ENGINE_RUNS is its time (the naive loop's single run
        # lasts a minute and averages the noise by itself).
        engine_runs = [timed(lambda: oip_engine.layer_oips(model, "Conv2D_3", cfg, PIXEL_RANGE, SEED, maps=ids))
                       for _ in range(ENGINE_RUNS)]
        engine, engine_run = engine_runs[0][0], float(np.median([t for _, t in engine_runs]))
        print(f"    batched engine, {ENGINE_RUNS} runs: {', '.join(f'{t:.2f}' for _, t in engine_runs)} s "
              f"(median {engine_run:.2f} s)")
        _, naive_warm = timed(lambda: naive_oips(model, "Conv2D_3", cfg, PIXEL_RANGE, SEED, ids[:1], 2))
        naive, naive_run = timed(lambda: naive_oips(model, "Conv2D_3", cfg, PIXEL_RANGE, SEED, ids, steps))

        print(f"    {'method':<28}{'warm-up s':>10}{'run s':>10}{'image-steps/s':>15}")
        print(f"    {'naive eager, map by map':<28}{naive_warm:>10.2f}{naive_run:>10.2f}{work / naive_run:>15,.0f}")
        print(f"    {'batched engine':<28}{engine_warm:>10.2f}{engine_run:>10.2f}{work / engine_run:>15,.0f}")
        ratio = naive_run / engine_run
        ok = ratio >= SPEEDUP_TARGET
        print(f"    speed-up (run times, warm-up excluded): {ratio:,.1f}x   target >= {SPEEDUP_TARGET:.0f}x   "
              f"{'PASS' if ok else 'MISS'}")
    assert engine["final"].shape == naive["final"].shape == (maps, 1), (engine["final"].shape, naive["final"].shape)
    diff = abs(naive["final"][:, 0] - engine["final"][:, 0]).max()
    largest = abs(naive["final"]).max()
    same = bool(diff <= AGREE_TOLERANCE * max(largest, 1.0))
    print(f"    same answer: max |final activation, engine - naive| = {diff:.2e} "
          f"(largest final activation {largest:.2f}; float rounding in other kernels)   "
          f"{'SAME' if same else 'DIFFERENT'}")
    return ok, same


def full_workload(model, smoke: bool = False) -> bool:
    from generator.features.patterns import oip_engine
    from generator.ascent import render
    from generator.config.oip import OIPConfig
    from generator.model import taps

    cfg = OIPConfig()
    if cfg.layers is None:  # as a build does: every map layer of the model
        cfg = replace(cfg, layers=[info.name for info in taps.map_layers(model)])
    if smoke:  # the first layer, 2 steps, no separate warm-up: the code path runs, no speed is judged
        cfg = replace(cfg, layers=cfg.layers[:1], steps=2, snapshots=2)
    n_starts = len(cfg.noise_scales)
    print(f"\n(b) default workload: layers {', '.join(cfg.layers)}, every map x {n_starts} starts x "
          f"{cfg.steps} steps, {cfg.snapshots} snapshots")
    # Warm-up: trace both compiled step functions (UNROLL steps and single steps) for each batch shape.
    warm_cfg = replace(cfg, steps=render.UNROLL + 1, snapshots=2)
    rows, warm, runs = {}, {}, {}
    for layer in cfg.layers:
        if smoke:
            warm[layer] = 0.0
            continue
        _, warm[layer] = timed(lambda: oip_engine.layer_oips(model, layer, warm_cfg, PIXEL_RANGE, SEED))
    for layer in cfg.layers:
        result, runs[layer] = timed(lambda: oip_engine.layer_oips(model, layer, cfg, PIXEL_RANGE, SEED))
        rows[layer] = result["final"].size
    print(f"    {'layer':<10}{'rows':>6}{'warm-up s':>11}{'run s':>9}{'image-steps/s':>15}")
    for layer in cfg.layers:
        print(f"    {layer:<10}{rows[layer]:>6}{warm[layer]:>11.2f}{runs[layer]:>9.2f}"
              f"{rows[layer] * cfg.steps / runs[layer]:>15,.0f}")
    total_rows, total = sum(rows.values()), sum(runs.values())
    print(f"    {'total':<10}{total_rows:>6}{sum(warm.values()):>11.2f}{total:>9.2f}"
          f"{total_rows * cfg.steps / total:>15,.0f}")
    ok = total <= SECONDS_TARGET
    verdict = "(smoke run: speed not judged)" if smoke else \
        f"target <= {SECONDS_TARGET:.0f} s   {'PASS' if ok else 'MISS'}"
    print(f"    {total_rows // n_starts} maps x {n_starts} starts x {cfg.steps} steps = "
          f"{total_rows * cfg.steps:,} image-steps in {total:.1f} s (warm-up excluded)   {verdict}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-maps", type=int, default=128, help="Conv2D_3 maps for comparison (a)")
    parser.add_argument("--naive-steps", type=int, default=32, help="steps for comparison (a)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few maps and steps: both engines run and must agree; speed is not judged")
    args = parser.parse_args(argv)
    if args.smoke:
        args.naive_maps, args.naive_steps = 4, 3

    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    model, source = load_model()
    print(f"model: {source}")
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores; load average at start "
          f"{os.getloadavg()[0]:.1f} (other processes share the cores, timings include their effect)")
    ok_a, same = compare_with_naive(model, args.naive_maps, args.naive_steps, smoke=args.smoke)
    ok_b = full_workload(model, smoke=args.smoke)
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    if args.smoke:
        print(f"summary (smoke): engines {'agree' if same else 'DISAGREE'}; speed not judged")
        return 0 if same else 1
    print(f"summary: speed-up {'PASS' if ok_a else 'MISS'}, full workload {'PASS' if ok_b else 'MISS'}, "
          f"engines {'agree' if same else 'DISAGREE'}")
    return 0 if ok_a and ok_b and same else 1


if __name__ == "__main__":
    sys.exit(main())
