"""The user's configuration: credentials, API host and price overrides.

Read from $SHOTLANG_CONFIG, else $XDG_CONFIG_HOME/shotlang/config.toml (by default
~/.config/shotlang/config.toml). Environment variables win over the file. The format is in
docs/running.md.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .compiler import kling, language
from .compiler.models import PRICE_SLOT_EXAMPLE, PriceSlot, price_slot


class ConfigError(Exception):
    """The config file cannot be read or says something shotlang cannot use."""


@dataclass(frozen=True)
class Credentials:
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)

    def __repr__(self) -> str:  # never show a key, even in a debugger or a traceback
        return "Credentials(<hidden>)"


# The ways to reach Kling's models: Kling's own API, and fal's queue (docs/running.md, "Backends");
# the language's table, which the BACKEND statement takes too.
BACKENDS = tuple(language.BACKENDS)
DEFAULT_BACKEND = language.DEFAULT_BACKEND
FAL_QUEUE_BASE = language.FAL_QUEUE_BASE  # where the fal backend sends requests by default


@dataclass(frozen=True)
class FalKey:
    key: str = field(repr=False)

    def __repr__(self) -> str:  # never show a key
        return "FalKey(<hidden>)"


@dataclass
class Config:
    credentials: Credentials | None = None
    api_base: str = kling.DEFAULT_API_BASE
    backend: str = DEFAULT_BACKEND  # $SHOTLANG_BACKEND, else [run] backend, else kling
    fal_key: FalKey | None = None  # $FAL_KEY, else [fal] key
    fal_api_base: str = FAL_QUEUE_BASE  # $FAL_API_BASE, else [fal] api_base
    # Credits per generation by model and (mode, seconds), over the capability matrix's prices.
    prices: dict[str, dict[PriceSlot, float]] = field(default_factory=dict)
    usd_per_credit: float = kling.USD_PER_CREDIT
    path: Path | None = None


def config_path(env: Mapping[str, str]) -> Path:
    if env.get("SHOTLANG_CONFIG"):
        return Path(env["SHOTLANG_CONFIG"])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "shotlang" / "config.toml"


def load(env: Mapping[str, str] | None = None) -> Config:
    """The configuration from the file (if any) and the environment."""
    env = os.environ if env is None else env
    path = config_path(env)
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"cannot read {path}: {e}") from None
    config = Config(path=path if data else None)
    section = data.get("kling", {})
    access = env.get("KLING_ACCESS_KEY") or section.get("access_key")
    secret = env.get("KLING_SECRET_KEY") or section.get("secret_key")
    if access and secret:
        config.credentials = Credentials(str(access), str(secret))
    config.api_base = env.get("KLING_API_BASE") or section.get("api_base") or kling.DEFAULT_API_BASE
    fal = data.get("fal", {})
    if not isinstance(fal, dict):
        raise ConfigError(f"{path}: [fal] should be a table: key = \"...\", api_base = \"...\"")
    key = env.get("FAL_KEY") or fal.get("key")
    if key:
        config.fal_key = FalKey(str(key))
    config.fal_api_base = env.get("FAL_API_BASE") or fal.get("api_base") or FAL_QUEUE_BASE
    run = data.get("run", {})
    if not isinstance(run, dict):
        raise ConfigError(f"{path}: [run] should be a table: backend = \"fal\"")
    backend = env.get("SHOTLANG_BACKEND") or run.get("backend") or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ConfigError(f"{'$SHOTLANG_BACKEND' if env.get('SHOTLANG_BACKEND') else path}: backend "
                          f"{backend!r} is none of {', '.join(BACKENDS)}")
    config.backend = backend
    _read_prices(data.get("prices", {}), config, path)
    return config


def _read_prices(prices: dict[str, Any], config: Config, path: Path) -> None:
    """[prices] usd_per_credit = 0.14, and a table per model: [prices.kling-v2-6] pro-5s = 12"""
    for key, value in prices.items():
        if key == "usd_per_credit":
            config.usd_per_credit = _number(value, path, "prices.usd_per_credit")
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: prices.{key} should be a table such as {{ std-5s = 1 }}")
        credits = config.prices.setdefault(key, {})
        for slot, amount in value.items():
            found = price_slot(slot)
            if found is None:
                raise ConfigError(f"{path}: prices.{key}.{slot}: write a mode and whole seconds (or per-second), "
                                  f"and -sound or -voice for audio, such as {PRICE_SLOT_EXAMPLE}")
            credits[found] = _number(amount, path, f"prices.{key}.{slot}")


def _number(value: Any, path: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{path}: {where} should be a number of credits, not {value!r}")
    return float(value)
