"""The typed build configuration, loaded from YAML and validated key by key."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .activations import ActivationsConfig
from .core import DataConfig, ModelConfig, SiteConfig
from .dreams import DreamsConfig
from .oip import OIPConfig
from .schema import ConfigError, as_dict, bounded, build


@dataclass(frozen=True)
class Config:
    seed: int = bounded(1234, min=0, max=2**31 - 1)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    oip: OIPConfig = field(default_factory=OIPConfig)
    activations: ActivationsConfig = field(default_factory=ActivationsConfig)
    dreams: DreamsConfig = field(default_factory=DreamsConfig)
    site: SiteConfig = field(default_factory=SiteConfig)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config {path}: {err.__class__.__name__}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "malformed YAML"
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    return build(Config, data)


def config_hash(obj) -> str:
    """A short stable hash of any config section (or plain data)."""
    text = json.dumps(as_dict(obj), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


__all__ = ["Config", "ConfigError", "load_config", "config_hash", "as_dict"]
