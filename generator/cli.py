"""Command line: `python -m generator build --config configs/quick.yaml [--out site]`."""
from __future__ import annotations

import argparse
import contextlib
import importlib.abc
import importlib.util
import os
import signal
import sys
import threading
import traceback
from dataclasses import replace
from pathlib import Path

from .errors import Terminated, UserError

ROOT = Path(__file__).resolve().parent.parent


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m generator", description="Build the CNN gallery.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train or load the model, run every analysis, write the site")
    b.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    b.add_argument("--out", default="site", help="site folder (swapped in only when complete)")
    b.add_argument("--cache", default=None, help="cache folder (default: cache/ in the project)")
    b.add_argument("--data", default=None, help="dataset file or IDX folder (overrides data.path)")
    c = sub.add_parser("check", help="validate a config against its data and model, and exit")
    c.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    c.add_argument("--data", default=None, help="dataset file or IDX folder (overrides data.path)")
    return p


INTERRUPTED = (130, 128 + signal.SIGTERM)  # exit codes after Ctrl-C and SIGTERM


def main(argv: list[str] | None = None) -> int:
    # TF's C++ log (start-up notices, and spurious "NodeDef mentions attribute" errors from tf.data)
    # would hide our own lines; failures still reach us as Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = parser().parse_args(argv)
    restore = _prepare_process()
    try:
        from .config import load_config

        from .checks import check_config

        cfg = load_config(args.config)
        if getattr(args, "data", None):  # a file named on the command line wins over data.path and the sample
            cfg = replace(cfg, data=replace(cfg.data, path=str(Path(args.data).resolve()), sample=False))
        model = check_config(cfg, ROOT)
        if args.command == "check":
            from .checks import check_with_data

            check_with_data(cfg, ROOT, model)
            print(f"{args.config}: ok")
            return 0
        from .pipeline import build_site

        build_site(cfg, Path(args.out), ROOT, Path(args.cache) if args.cache else None)
        return 0
    except UserError as err:
        return _fail(str(err), err.exit_code)
    except Terminated:
        return _fail("terminated; the previous site is unchanged", INTERRUPTED[1])
    except KeyboardInterrupt:
        return _fail("interrupted; the previous site is unchanged", INTERRUPTED[0])
    except OSError as err:
        return _fail(f"{err.strerror or err}: {err.filename or ''}".rstrip(": "), 1)
    except Exception as err:  # a bug, not bad input: still one line, the traceback on request
        if os.environ.get("GENERATOR_TRACEBACK"):
            traceback.print_exc()
        frame = traceback.extract_tb(err.__traceback__)[-1]
        return _fail(f"internal error {err.__class__.__name__}: {err} (at {Path(frame.filename).name}:"
                     f"{frame.lineno}; set GENERATOR_TRACEBACK=1 to see where it came from)", 1)
    finally:
        restore()


def _fail(message: str, code: int) -> int:
    sys.stdout.flush()
    print("error: " + " ".join(message.split()), file=sys.stderr)  # always exactly one line
    return code


def _prepare_process():
    """Log lines reach a pipe as they happen, SIGTERM cleans up like Ctrl-C, TF loads quietly.
    Returns what undoes the last two, for callers that run main() inside a longer-lived process."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    quiet = _QuietTensorFlow()
    if "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, quiet)

    def restore() -> None:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if quiet in sys.meta_path:
            sys.meta_path.remove(quiet)

    return restore


def _on_sigterm(signum, frame):
    raise Terminated()


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """TensorFlow writes a oneDNN notice to file descriptor 2 while it loads, whatever
    TF_CPP_MIN_LOG_LEVEL says; loading it with that descriptor on /dev/null keeps an error one line."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            load = spec.loader.exec_module

            def exec_module(module):
                with _stderr_to_devnull():
                    load(module)

            spec.loader.exec_module = exec_module
        return spec


@contextlib.contextmanager
def _stderr_to_devnull():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
