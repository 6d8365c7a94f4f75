"""`make bench` still runs: scripts/bench.py --smoke, in this process, on a few maps and steps. Both OIP
engines (the batched one and the naive eager loop) run on the same maps, starts and seed and must give
the same answer, and the default workload's layers come from the model. No speed is judged here: the
speed-up target (>= 100x on Conv2D_3) is checked by `make bench` itself."""
from __future__ import annotations

import contextlib
import importlib.util
import io
import re

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def test_bench_smoke_runs_and_both_engines_agree():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = bench.main(["--smoke"])
    text = out.getvalue()
    assert code == 0, text
    same = re.search(r"max \|final activation, engine - naive\| = (\S+) \(largest final activation (\S+);", text)
    assert same and float(same.group(1)) <= bench.AGREE_TOLERANCE * max(float(same.group(2)), 1.0), text
    assert "SAME" in text and "summary (smoke): engines agree; speed not judged" in text
    # (b) on the layers the model has, as a build chooses them when oip.layers is left empty
    assert "default workload: layers Conv2D_1," in text and "32 maps x 4 starts x 2 steps" in text
    assert "PASS" not in text and "MISS" not in text  # a smoke run gives no speed verdict
