"""Progress a person can follow: on a terminal one live bar per long stage (Keras's Progbar: count, rate,
time left), in a log a few plain lines (no carriage returns, no backspaces).

`bar(label[, total])` gives an update(done[, total]) function; `stage(label)` a context that says when a stage without
steps of its own starts and how long it took — on a terminal on one line that is rewritten, in a log as two.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager

PLAIN_LINES = 4  # a log gets a line at each quarter of a stage


def on_terminal() -> bool:
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def bar(label: str, total: int | None = None, unit: str = "step"):
    """update(done[, total]): a live Progbar on a terminal, else a plain line at each quarter of the total
    (given here or with each update)."""
    state = {"bar": None, "last": -1, "total": total}

    def update(done: int, now_total: int | None = None) -> None:
        total = now_total or state["total"] or 1
        state["total"] = total
        if on_terminal():
            if state["bar"] is None:
                import keras

                print(label, flush=True)
                state["bar"] = keras.utils.Progbar(max(total, 1), unit_name=unit)
            state["bar"].update(done, finalize=done >= total)
            return
        part = PLAIN_LINES * done // max(total, 1)
        if part != state["last"]:
            state["last"] = part
            print(f"{label}: {done}/{total} {unit}s", flush=True)

    return update


@contextmanager
def stage(label: str, log=print):
    """`[label] computing`, then `[label] done in N s`: rewritten in place on a terminal."""
    start = time.perf_counter()
    if on_terminal():
        print(f"{label} computing…", end="", flush=True)
    else:
        log(f"{label} computing")
    yield
    seconds = time.perf_counter() - start
    if on_terminal():
        print(f"\r{label} done in {seconds:.1f} s   ", flush=True)
    else:
        log(f"{label} done in {seconds:.1f} s")
