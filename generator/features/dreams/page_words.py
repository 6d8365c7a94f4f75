"""What the dream pages say that depends on the model and the build: sizes (the model's input size is
the carving tile), gray or colour, the settings table and the shape check. Plain functions of the
dreams stage's artifact and the config; no drawing."""
from __future__ import annotations

import numpy as np


def tile_shape(art) -> tuple[int, int, int]:
    """(H, W, C) of the model's input: the carving tile."""
    return tuple(int(v) for v in art.arrays["tile"])


def dims(shape) -> str:
    """"224×168" for a picture or tile shape (h, w[, c])."""
    return f"{shape[0]}×{shape[1]}"


def side(shape) -> str:
    """A square's side, "224", or both sides, "224×168"."""
    return str(shape[0]) if shape[0] == shape[1] else dims(shape)


def px(shape) -> str:
    return f"{side(shape)} px"


def picture_kind(art) -> str:
    return "gray" if art.arrays["picture"].ndim == 2 else "colour"


def octave_sizes(art) -> list[tuple[int, int]]:
    """Each octave's (h, w)."""
    return [(int(h), int(w)) for h, w in art.arrays["layer_sizes"]]


def columns(art, small_shape) -> list[str]:
    """The carving table's picture columns."""
    shown = "gray, contrast-enhanced" if picture_kind(art) == "gray" else "contrast-enhanced"
    return [f"dreamt {dims(small_shape)}", shown, "scaled up", "detail added back"]


def view_words(art) -> tuple[str, str]:
    """Alt words of the dreamt small picture's two views: colour-mapped (gray) or as it is (colour)."""
    return ("colour map", "gray") if picture_kind(art) == "gray" else ("its own colours", "contrast-enhanced")


def diff_words(art) -> str:
    return "" if picture_kind(art) == "gray" else " (mean of the three channels)"


def settings(cfg, ocfg, art, kind: str, i: int) -> list[tuple[str, str]]:
    """The settings table of one dream (cfg: the dreams config, ocfg: the OIP config)."""
    shape, tile = art.arrays["picture"].shape, tile_shape(art)
    crop = "square" if shape[0] == shape[1] else "crop"
    rows = [("picture", f"{art.meta['picture']}, {picture_kind(art)}, central {crop} at {dims(shape)} px")]
    if kind in ("carve", "tiled"):
        k = cfg.tiles if kind == "tiled" else 1
        rows += [("layer", art.meta["layer"]),
                 ("dreamt at", f"{dims((tile[0] * k, tile[1] * k))} px"
                  + (f" = {cfg.tiles}×{cfg.tiles} tiles of {dims(tile)}, shifted by a random offset each round "
                     f"(wrapping around)" if kind == "tiled" else "")),
                 ("rounds", str(cfg.rounds)),
                 ("ascent per round", f"{cfg.tiled_steps if kind == 'tiled' else cfg.steps} steps of size "
                                      f"{cfg.step_size:g} (OIP ascent: jitter "
                                      f"{ocfg.jitter} px, blur σ {ocfg.blur_sigma:g} every {ocfg.blur_every} "
                                      f"steps, objective: {ocfg.objective} activation)"),
                 ("scaling", "bicubic down and up; the detail (picture minus its down-and-up-scaled copy) "
                             "is added back after every round"),
                 ("maps chosen", art.meta["rule"])]
        seconds, n_rows = art.meta[f"{kind}_seconds"], art.meta[f"{kind}_rows"]
        rows.append(("computed", f"all {len(art.arrays['maps'])} maps together, one batch of {n_rows} rows "
                                 f"per round: {seconds:.1f} s for {cfg.rounds} rounds"))
    else:
        weights = cfg.layer_dreams[i].layers
        sizes = octave_sizes(art)
        rows += [("objective", " + ".join(f"{w:g} × mean({name})" for name, w in weights.items())),
                 ("octaves", f"{cfg.octaves}: " + ", ".join(px(v) for v in sizes)
                  + f" (scale {cfg.octave_scale:g})"),
                 ("ascent per octave", f"{cfg.octave_steps} steps of size {cfg.octave_step_size:g} "
                                       f"(gradient divided by its standard deviation)"),
                 ("tiles", f"gradient on {cfg.tile_size}×{cfg.tile_size} tiles in one batch, at a random "
                           f"shift every step"),
                 ("between octaves", "the dream's change so far is scaled up and added to the larger picture"),
                 ("computed", f"{art.meta['layer_seconds'][i]:.1f} s")]
    return rows


def match_text(a: dict, i: int, tile: str) -> str:
    if "carve_match" not in a:
        return ""
    match, maps = a["carve_match"], [int(m) for m in a["maps"]]
    own = float(match[i, i])
    others = [j for j in range(len(maps)) if j != i]
    text = (f"Shape check: what carving changed in the {tile} picture correlates {own:.2f} with map {maps[i]}'s "
            f"own OIP (largest correlation over shifts of up to 3 px)")
    if not others:
        return text + "."
    j = max(others, key=lambda k: match[i, k])
    verdict = "less" if match[i, j] < own else "more"
    return text + (f"; {verdict} with any other dreaming map's OIP: the closest is map {maps[j]} "
                   f"({float(match[i, j]):.2f}).")


def match_summary(a: dict, tile: str) -> str:
    if "carve_match" not in a or len(a["maps"]) < 2:
        return ""
    match = a["carve_match"]
    own_best = int(sum(match[i, i] >= match[i].max() for i in range(len(match))))
    return (f"Shape check: for {own_best} of {len(match)} maps, what carving changed in the {tile} picture "
            f"correlates more with the map's own OIP than with any other dreaming map's "
            f"(largest correlation over shifts of up to 3 px; own {np.diag(match).min():.2f}–"
            f"{np.diag(match).max():.2f}).")
