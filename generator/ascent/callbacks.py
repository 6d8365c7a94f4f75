"""Watchers of a render (as tf-keras-vis's callbacks): begin, step and end of every batch of rows.

The render calls, per batch: on_begin(rows, x, values, plan) with the start images and their
values; on_step(rows, step, x, values) after each compiled call, `step` = steps done so far and
`values` the (steps of the call, B) values the ascent saw; on_end(rows, x, values, failed) with
the kept (best) images. `rows` are the batch's row numbers in the whole render; tensors hold the
batch's padding rows too, after the real ones. A callback may name `stops(steps)`: step counts at
which on_step must see the images (the render ends a compiled call there).
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np


class Plan(NamedTuple):
    rows: int
    steps: int
    batches: int


class Callback:
    def stops(self, steps: int) -> Sequence[int]:
        return ()

    def on_begin(self, rows, x, values, plan: Plan) -> None:
        pass

    def on_step(self, rows, step: int, x, values) -> None:
        pass

    def on_end(self, rows, x, values, failed) -> None:
        pass


def real(tensor, rows) -> np.ndarray:
    """A batch tensor as numpy, without its padding rows."""
    return np.asarray(tensor)[: len(rows)]


class _Rows(Callback):
    """Collects one array per batch and lays them out by row number."""

    def __init__(self):
        self._parts: list = []
        self._n = 0

    def on_begin(self, rows, x, values, plan: Plan) -> None:
        self._n = plan.rows

    def _keep(self, rows, array: np.ndarray) -> None:
        self._parts.append((np.asarray(rows), array))

    def result(self) -> Optional[np.ndarray]:
        if not self._parts:
            return None
        first = self._parts[0][1]
        out = np.zeros((self._n,) + first.shape[1:], first.dtype)
        for rows, array in self._parts:
            out[rows] = array
        return out


class Snapshots(_Rows):
    """The images at the given steps, (rows, frames, H, W, C); the last frame is the kept image."""

    def __init__(self, frames: Sequence[int]):
        super().__init__()
        self.frames = [int(f) for f in frames]

    def stops(self, steps: int) -> Sequence[int]:
        return self.frames

    def on_begin(self, rows, x, values, plan: Plan) -> None:
        super().on_begin(rows, x, values, plan)
        self._frames = [real(x, rows)] * self.frames.count(0)

    def on_step(self, rows, step: int, x, values) -> None:
        if step in self.frames:
            self._frames += [real(x, rows)] * self.frames.count(step)

    def on_end(self, rows, x, values, failed) -> None:
        self._frames[-1] = real(x, rows)  # the pattern shown last is the one kept
        self._keep(rows, np.stack(self._frames, axis=1))


class Curve(_Rows):
    """Per row, the value at every step, then the kept image's value: (rows, steps + 1)."""

    def on_begin(self, rows, x, values, plan: Plan) -> None:
        super().on_begin(rows, x, values, plan)
        self._values: list = []

    def on_step(self, rows, step: int, x, values) -> None:
        self._values.append(real(np.asarray(values).T, rows))

    def on_end(self, rows, x, values, failed) -> None:
        self._keep(rows, np.concatenate(self._values + [real(values, rows)[:, None]], axis=1))


class Progress(Callback):
    """report(done, total) in steps, counting every batch's steps."""

    def __init__(self, report: Callable[[int, int], None]):
        self.report = report
        self._done = self._base = 0

    def on_begin(self, rows, x, values, plan: Plan) -> None:
        self._total = plan.batches * plan.steps
        self._base = self._done

    def on_step(self, rows, step: int, x, values) -> None:
        self._done = self._base + step
        self.report(self._done, self._total)
