"""Command line: `python -m generator build --config configs/quick.yaml [--out site]`."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from .errors import UserError

ROOT = Path(__file__).resolve().parent.parent


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m generator", description="Build the CNN gallery.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train or load the model, run every analysis, write the site")
    b.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    b.add_argument("--out", default="site", help="site folder (swapped in only when complete)")
    b.add_argument("--cache", default=None, help="cache folder (default: cache/ in the project)")
    b.add_argument("--data", default=None, help="dataset file or IDX folder (overrides data.path)")
    c = sub.add_parser("check", help="validate a config and exit")
    c.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter hides our own lines
    args = parser().parse_args(argv)
    try:
        from .config import load_config

        cfg = load_config(args.config)
        if args.command == "check":
            print(f"{args.config}: ok")
            return 0
        from .pipeline import build_site

        if args.data:
            cfg = replace(cfg, data=replace(cfg.data, path=str(Path(args.data).resolve())))

        build_site(cfg, Path(args.out), ROOT, Path(args.cache) if args.cache else None)
        return 0
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; the previous site is unchanged", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
