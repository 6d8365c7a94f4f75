"""The input contract: how the stored pixels (0..255) become what the model was trained on, and back.

Every contract is one affine map per channel, x = (pixel − mean) / std, so the whole gallery keeps
computing in "model units" and draws back on the pixel scale through the same two numbers: raw is
(0, 1), unit (0, 255), symmetric (127.5, 127.5), standardize the training pixels' own mean and std.
A loaded model that does not say gets the candidate it is most accurate with on a slice of the test
set, and the model card shows every candidate's accuracy: the choice is evidence, not a guess.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..errors import UserError

# On a tie (see TIE) the first of these wins: the gallery's own convention first, then the most
# common ways models are trained (Keras tutorials feed 0..1 or keep a Rescaling layer inside).
CANDIDATES = ("standardize", "unit", "raw", "symmetric")
FIXED = {"raw": (0.0, 1.0), "unit": (0.0, 255.0), "symmetric": (127.5, 127.5)}
FORMULA = {"raw": "pixels as stored, 0..255", "unit": "pixel / 255, 0..1", "symmetric": "pixel / 127.5 − 1, −1..1",
           "standardize": "(pixel − mean) / std of the training pixels", "explicit": "(pixel − mean) / std as configured"}
SLICE = 1000  # test images the candidates are tried on: enough to tell contracts apart, a second or two
TIE = 0.005   # candidates within half a point of the best are "as accurate": the slice cannot tell them apart
# Layers that prepare the input inside the model (the augmentation ones do nothing at inference).
PREPROCESSING = ("Rescaling", "Normalization", "Resizing", "CenterCrop")
AUGMENTATION_PREFIX = "Random"


@dataclass(frozen=True)
class Contract:
    name: str           # raw, unit, symmetric, standardize or explicit
    mean: tuple          # per channel, or one value for all
    std: tuple
    how: str = ""        # why this contract: given, trained so, or detected (with the evidence)
    tried: dict = field(default_factory=dict)  # candidate -> accuracy on the slice, when detected
    warning: str = ""    # a clear mismatch, said on the index

    @property
    def formula(self) -> str:
        stats = "" if self.name in FIXED else f" (mean {_numbers(self.mean)}, std {_numbers(self.std)})"
        return f"{self.name}: {FORMULA[self.name]}{stats}"

    def as_info(self) -> dict:
        return {**asdict(self), "mean": list(self.mean), "std": list(self.std)}


def _numbers(values) -> str:
    return ", ".join(f"{v:.4g}" for v in values)


def from_info(info: dict) -> Contract:
    return Contract(info["name"], tuple(info["mean"]), tuple(info["std"]), info.get("how", ""),
                    dict(info.get("tried", {})), info.get("warning", ""))


def candidate(name: str, dataset) -> Contract:
    if name == "standardize":
        return Contract(name, (dataset.mean,), (dataset.std,))
    mean, std = FIXED[name]
    return Contract(name, (mean,), (std,))


def configured(setting, dataset, how: str) -> Contract:
    """The contract a config's model.input names (a name or {mean, std})."""
    if isinstance(setting, str):
        return replace(candidate(setting, dataset), how=how)
    channels = dataset.image_shape[-1]
    for key in ("mean", "std"):
        values = getattr(setting, key)
        if len(values) not in (1, channels):
            raise UserError(f"model.input.{key}: {len(values)} values for {channels}-channel images "
                            f"(give 1 or {channels})")
    return Contract("explicit", tuple(float(v) for v in setting.mean), tuple(float(v) for v in setting.std), how)


def to_model(pixels: np.ndarray, contract: Contract) -> np.ndarray:
    """Stored pixels (N, H, W[, C]) on the 0..255 scale -> float32 model input (N, H, W, C)."""
    from ..data.dataset import standardize

    return standardize(pixels, unit_values(contract.mean), unit_values(contract.std))


def unit_values(values):
    """One float when every channel shares it, else a float32 array per channel (broadcasts on C)."""
    values = tuple(float(v) for v in values)
    return values[0] if len(set(values)) == 1 else np.asarray(values, np.float32)


def detect(model, dataset, log=print) -> Contract:
    """The candidate the model is most accurate with on the first SLICE test images; ties (within
    TIE) go to the earlier candidate, and the contract says so."""
    x, y = dataset.x_test[:SLICE], np.asarray(dataset.y_test[:SLICE]).astype(np.int64)
    tried = {}
    for name in CANDIDATES:
        probs = model.predict(to_model(x, candidate(name, dataset)), batch_size=250, verbose=0)
        tried[name] = float(np.mean(np.argmax(probs, axis=-1) == y))
    best = max(tried.values())
    alike = [n for n in CANDIDATES if best - tried[n] <= TIE]
    chosen = alike[0]
    shown = ", ".join(f"{n} {100 * a:.1f} %" for n, a in tried.items())
    if len(alike) > 1:
        how = (f"not given; {' and '.join(alike)} are as accurate on the first {len(x):,} test images "
               f"(within {100 * TIE:.1f} points: {shown}), so the slice cannot decide: took {chosen}, the first "
               f"in the order {', '.join(CANDIDATES)}; set model.input to choose")
    else:
        how = f"not given; detected as the most accurate on the first {len(x):,} test images ({shown})"
    contract = replace(candidate(chosen, dataset), how=how, tried=tried, warning=_mismatch(best, y))
    log(f"[model] input contract {contract.formula} — {how}")
    if contract.warning:
        log(f"warning: {contract.warning}")
    return contract


def _mismatch(best: float, y: np.ndarray) -> str:
    """A warning when even the best candidate is near chance: the model was not trained on data like
    this, or on a pixel scale none of the candidates is."""
    chance = float(np.bincount(y).max() / len(y))
    if best > chance + 0.25 * (1 - chance):
        return ""
    return (f"the model reaches at most {100 * best:.1f} % on these test images under every input contract tried "
            f"(always guessing the commonest class gives {100 * chance:.1f} %): it was trained on other data or on "
            f"another pixel scale; set model.input (e.g. {{mean: [...], std: [...]}}), or every picture of this "
            f"gallery shows a model on inputs it never saw")


def preprocessing_layers(model) -> list[str]:
    """What the model does to its input itself, one phrase per layer, for the model card."""
    import keras

    out = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        kind = layer.__class__.__name__
        if kind == "Rescaling":
            out.append(f"{layer.name} (Rescaling: × {_scalar(layer.scale)}, + {_scalar(layer.offset)})")
        elif kind == "Normalization":
            mean = np.asarray(keras.ops.convert_to_numpy(layer.mean)).reshape(-1)
            var = np.asarray(keras.ops.convert_to_numpy(layer.variance)).reshape(-1)
            out.append(f"{layer.name} (Normalization: mean {_numbers(mean[:3])}, std {_numbers(np.sqrt(var[:3]))})")
        elif kind in PREPROCESSING:
            out.append(f"{layer.name} ({kind})")
        elif kind.startswith(AUGMENTATION_PREFIX):
            out.append(f"{layer.name} ({kind}: augmentation, inactive at inference)")
    return out


def _scalar(value) -> str:
    values = np.asarray(value, dtype=np.float64).reshape(-1)
    return _numbers(values)
