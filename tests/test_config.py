"""Config errors are one line naming the key, exit code 2, no traceback."""
from __future__ import annotations

import pytest

from conftest import ROOT, run_cli
from generator.config import ConfigError, load_config


@pytest.mark.parametrize("text, message", [
    ("model:\n  epochs: 3\n  bogus: 1\n", "model.bogus: unknown key"),
    ("model:\n  epochs: three\n", "model.epochs: expected a whole number, got text 'three'"),
    ("model:\n  epochs: -1\n", "model.epochs: must be >= 1, got -1"),
    ("oip:\n  noise_scales: [1, 99]\n", "oip.noise_scales: must be <= 28, got 99"),
    ("oip:\n  noise_scales: []\n", "oip.noise_scales: needs at least 1 entry"),
    ("model:\n  learning_rate: .nan\n", "model.learning_rate: must be a finite number, got nan"),
    ("activations:\n  threshold: .inf\n", "activations.threshold: must be a finite number, got inf"),
    ("data:\n  dataset: cifar\n", "data.dataset: must be one of 'mnist', 'fashion', 'cifar10', 'custom', got 'cifar'"),
    ("seed: [1\n", "malformed YAML at line"),
    ("- just\n- a list\n", "config: expected a mapping"),
    ("activations:\n  image_sets:\n    - name: x\n      indices: [-4]\n", "activations.image_sets[0].indices: must be >= 0, got -4"),
])
def test_bad_config_is_named(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_cli_prints_one_line_and_exits_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  epochz: 3\n")
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: model.epochz: unknown key (allowed: " + result.stderr.split("allowed: ")[1].strip()
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_shipped_configs_are_valid():
    for name in ("default.yaml", "quick.yaml"):
        load_config(ROOT / "configs" / name)
