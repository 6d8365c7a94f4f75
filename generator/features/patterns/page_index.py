"""The index's map filter: every map of every layer as one line of a script the index loads."""
from __future__ import annotations

import json

import numpy as np


def entries(layers: list, thumb_size: dict[str, int]) -> list[dict]:
    """layer, map, status, ratio, page and thumbnail of every map of the given LayerData."""
    out = []
    for data in layers:
        size = thumb_size[data.layer]
        for m in data.maps:
            out.append({"l": m.layer, "m": m.index, "s": m.status,
                        "r": round(float(m.ratio), 4) if np.isfinite(m.ratio) else None,
                        "rt": m.ratio_text, "u": m.url, "t": m.thumb, "w": size, "h": size})
    return out


def script(rows: list[dict], what: str = "Every map of the OIP gallery") -> str:
    """The filter's index as a script (loaded with <script src>, so it works from file://). Each section
    writes its own part and the parts add up, so the dense nodes' section adds its nodes."""
    lines = ",\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in rows)
    return (f"// {what}, for the filter on the index (generated; not fetched, so it\n"
            "// works from file://). l layer, m map or node, k kind (node; else a map), s status, r ratio (null: "
            "infinite, or none when every start failed), u page, t thumbnail.\n"
            f"window.GALLERY_INDEX = (window.GALLERY_INDEX || []).concat([\n{lines}\n]);\n").replace("</", "<\\/")
