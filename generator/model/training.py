"""Train the seed network (or load a given one) and describe it for the model card."""
from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from ..cache import code_version, file_hash, stable_hash, write_atomic
from ..config import as_dict
from ..errors import Terminated
from . import input_contract
from .architecture import summary_rows
from .support import check_fits_data, check_model, outputs_probabilities
from .persist import save_model_file, weights_fingerprint

VERSION = "2"


def obtain_model(build) -> None:
    """Fill build.model_path, build.model_info and build.weights_hash; train only when needed."""
    start = time.perf_counter()
    cfg = build.cfg
    if cfg.model.path:
        from ..checks import model_path

        path = model_path(cfg, build.root)
        info, reused = _given_info(build, path), True
    else:
        key = stable_hash(VERSION, build.data_fingerprint, training_settings(cfg.model), cfg.seed)
        path = build.store.folder("model") / f"{key}.keras"
        info = _cached_info(path, build.log)
        reused = info is not None
        if info is None:
            info = _train(build, path)
    build.model_path, build.model_info = path, info
    build.weights_hash = weights_fingerprint(path)
    if cfg.model.path:  # the same weights fed another way, or opened at another output, are another model
        build.weights_hash = stable_hash(build.weights_hash, info["mean"], info["std"], info.get("opening"),
                                         cfg.model.output)
    from ..context import Timing

    build.timings.append(Timing("model", time.perf_counter() - start, reused))


def training_settings(model_cfg) -> dict:
    """The settings that make the seed network: the keys that only open a given model are left out,
    so adding them kept every trained model's cache key."""
    return {k: v for k, v in as_dict(model_cfg).items() if k not in ("output", "custom_objects_module")}


def _info_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def _cached_info(path: Path, log) -> dict | None:
    info_path = _info_path(path)
    if not (path.exists() and info_path.exists()):
        return None
    try:
        info = json.loads(info_path.read_text())
        if info["sha256"] != file_hash(path):
            raise ValueError("checksum mismatch")
        return info
    except (OSError, ValueError, KeyError) as err:
        log(f"warning: cached model {path.name} is corrupt ({err}); training again")
        return None


def _given_info(build, path: Path) -> dict:
    """The given model's card, kept in the cache: detecting its input contract and evaluating it
    cost a pass over the test set, needless when neither the file, the data nor the settings changed."""
    key = stable_hash(VERSION, file_hash(path), build.data_fingerprint, as_dict(build.cfg.model),
                      code_version("generator.model.input_contract", "generator.model.training"))
    cached = build.store.folder("model") / f"given-{key}.json"
    try:
        return json.loads(cached.read_text())
    except (OSError, ValueError):
        info = _describe_given(build, path)
        write_atomic(cached, json.dumps(info, indent=1).encode())
        return info


def _describe_given(build, path: Path) -> dict:
    from .opening import load

    model, opening = load(path, build.cfg.model, build.root)
    check_model(model, str(path))
    ds = build.dataset
    check_fits_data(model, str(path), ds.image_shape, ds.n_classes, bool(build.cfg.data.class_names))
    build._model = model
    setting = build.cfg.model.input
    contract = (input_contract.configured(setting, ds, "given in the config (model.input)") if setting is not None
                else input_contract.detect(model, ds, build.log))
    info = {"sha256": file_hash(path), "mean": list(contract.mean), "std": list(contract.std),
            "input": contract.as_info(), "preprocessing": input_contract.preprocessing_layers(model),
            "summary": summary_rows(model), "params": int(model.count_params()), "history": {},
            "train_seconds": None, "trained_here": False, "settings": None, "train_size": len(ds.x_train),
            "probabilities": outputs_probabilities(model), "opening": opening}
    info.update(_evaluate(model, build, contract))
    return info


def _train(build, path: Path) -> dict:
    import keras
    import tensorflow as tf

    from .architecture import build_model

    cfg, ds = build.cfg, build.dataset
    keras.utils.set_random_seed(build.cfg.seed)
    tf.config.experimental.enable_op_determinism()
    contract = input_contract.configured(cfg.model.input or "standardize", ds,
                                         "the seed network is trained on it in this build")
    x, y = input_contract.to_model(ds.x_train, contract), ds.y_train.astype("int32")
    model = build_model(cfg.model.l2, ds.image_shape, ds.n_classes)
    steps_per_epoch = math.ceil(len(x) / cfg.model.batch_size)
    model.compile(optimizer=keras.optimizers.SGD(_schedule(cfg.model, steps_per_epoch),
                                                 momentum=cfg.model.momentum, nesterov=True),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    build.log(f"[model] training {cfg.model.epochs} epochs on {len(x):,} images "
              f"({model.count_params():,} parameters)")
    t0 = time.perf_counter()
    # Keras warns that fit's shuffle flag is ignored for a tf.data input; the data set shuffles itself.
    warnings.filterwarnings("ignore", message=".*shuffle=True.*", category=UserWarning)
    with _signals_after_batch() as caught:
        history = model.fit(_training_data(x, y, cfg), epochs=cfg.model.epochs,
                            validation_data=(input_contract.to_model(ds.x_test, contract), ds.y_test.astype("int32")),
                            # The per-epoch test pass at the training batch size cost a third of each epoch.
                            validation_batch_size=500,
                            verbose=1 if sys.stdout.isatty() else 2, callbacks=[_stop_when(caught)])
    seconds = time.perf_counter() - t0
    save_model_file(model, path)
    info = {"sha256": file_hash(path), "mean": list(contract.mean), "std": list(contract.std),
            "input": contract.as_info(), "preprocessing": [], "summary": summary_rows(model),
            "params": int(model.count_params()), "train_seconds": seconds, "trained_here": True,
            "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
            "settings": training_settings(cfg.model), "train_size": len(x), "probabilities": True}
    info.update(_evaluate(model, build, contract))
    write_atomic(_info_path(path), json.dumps(info, indent=1).encode())
    build._model = model
    return info


@contextlib.contextmanager
def _signals_after_batch():
    """Ctrl-C or SIGTERM during fit are noted and acted on after the current batch: an exception
    raised while tf.data's worker threads run can corrupt TensorFlow's heap (seen as SIGABRT)."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    # A signal the process was started with ignored (SIGINT in a job started with `&` by a script)
    # stays ignored here too, as it is in every other stage.
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        yield caught
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if caught:
        raise Terminated() if caught[0] == signal.SIGTERM else KeyboardInterrupt()


def _stop_when(caught: list[int]):
    import keras

    class StopWhenAsked(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if caught:
                self.model.stop_training = True

    return StopWhenAsked()


def _schedule(model_cfg, steps_per_epoch: int):
    import keras

    lr = model_cfg.learning_rate
    if model_cfg.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=model_cfg.epochs * steps_per_epoch, alpha=0.01)
    if model_cfg.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(lr, steps_per_epoch, model_cfg.decay_rate, staircase=True)
    return lr


def _training_data(x: np.ndarray, y: np.ndarray, cfg):
    """Shuffled batches; optional random whole-pixel shifts, seeded so two builds train identically."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=cfg.seed, reshuffle_each_iteration=True)
    ds = ds.batch(cfg.model.batch_size)
    if cfg.model.shift_pixels:
        ds = ds.map(_shifter(cfg.model.shift_pixels, float(x.min()), cfg.seed))
    return ds.prefetch(2)


def _shifter(pad: int, fill: float, seed: int):
    """Each image moved by a whole number of pixels, up to `pad` each way, the uncovered border filled
    with the background. Whole pixels, unlike keras's RandomTranslation, need no interpolation: the
    same accuracy in fewer epochs (measured in the README)."""
    import tensorflow as tf

    rng = tf.random.Generator.from_seed(seed)

    def shift(images, labels):
        n, h, w = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
        padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], constant_values=fill)
        offsets = rng.uniform([n, 2], 0, 2 * pad + 1, dtype=tf.int32)
        rows = tf.gather(padded, offsets[:, :1] + tf.range(h)[None], batch_dims=1)
        return tf.gather(rows, offsets[:, 1:] + tf.range(w)[None], axis=2, batch_dims=1), labels

    return shift


def _evaluate(model, build, contract) -> dict:
    """Keras's own `evaluate` on the test set fed through the contract: the figure the model card sets
    beside the gallery's own count of right answers, to prove the gallery feeds the model as it should."""
    import keras

    ds = build.dataset
    logits = not outputs_probabilities(model)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=logits), metrics=["accuracy"])
    loss, acc = model.evaluate(input_contract.to_model(ds.x_test, contract), ds.y_test.astype("int32"),
                               batch_size=500, verbose=0)
    return {"test_loss": float(loss), "test_accuracy": float(acc), "test_size": len(ds.x_test)}

