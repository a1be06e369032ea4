"""The configuration model (first cut; strictness and check-config to follow).

Contract other modules rely on:

* :func:`load_config(path=None) -> AppConfig`
* ``AppConfig.daemon`` (:class:`DaemonSettings`), ``AppConfig.profiles``
  (name -> :class:`~despeckled.clean.CleanParams`), ``AppConfig.watch``
  (list of :class:`WatchSettings`)
* :meth:`AppConfig.resolved_watches` -> list of :class:`ResolvedWatch`, each
  with its effective daemon settings and cleaning parameters.
"""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource

from despeckled.clean import CleanParams

DEFAULT_CONFIG_PATH = Path("/etc/despeckled/config.toml")
_toml_path: contextvars.ContextVar[Path | None] = contextvars.ContextVar("_toml_path", default=None)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DaemonSettings(_Strict):
    workers: int = Field(2, ge=1, description="parallel cleaning workers")
    settle_seconds: float = Field(5.0, ge=0, description="a file must be unchanged this long before it is taken")
    poll_interval_seconds: float = Field(2.0, gt=0, description="for polling watchers and rescans")
    rescan_interval_seconds: float = Field(60.0, gt=0, description="full rescan of every watch root, catches missed events")
    stuck_after_seconds: float = Field(900.0, gt=0, description="a file that never settles this long is reported as stuck")
    file_timeout_seconds: float = Field(300.0, gt=0, description="per-file processing limit")
    stop_timeout_seconds: float = Field(20.0, ge=0, description="on SIGTERM, how long in-flight files may take to finish")
    max_pixels: int = Field(250_000_000, gt=0, description="per-page pixel limit against decompression bombs")
    max_pages: int = Field(2000, gt=0, description="page limit per file")
    max_retries: int = Field(5, ge=0, description="transient I/O errors are retried this often, with backoff")
    state_file: Path | None = Field(None, description="status file for `despeckled status` (default: $RUNTIME_DIRECTORY or /run/despeckled)")


class WatchSettings(_Strict):
    input: Path
    output: Path
    archive: Path
    failed: Path
    polling: bool | Literal["auto"] = "auto"
    profile: str = "default"
    clean: dict[str, Any] = Field(default_factory=dict, description="per-watch overrides of the profile's cleaning settings")
    # daemon-level overrides
    settle_seconds: float | None = None
    poll_interval_seconds: float | None = None
    stuck_after_seconds: float | None = None
    output_format: str | None = None


class ResolvedWatch(BaseModel):
    model_config = ConfigDict(frozen=True)
    input: Path
    output: Path
    archive: Path
    failed: Path
    polling: bool | Literal["auto"]
    settle_seconds: float
    poll_interval_seconds: float
    stuck_after_seconds: float
    output_format: str | None
    clean: CleanParams


class AppConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DESPECKLED_", env_nested_delimiter="__", extra="forbid")

    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    profiles: dict[str, CleanParams] = Field(default_factory=lambda: {"default": CleanParams()})
    watch: list[WatchSettings] = Field(default_factory=list)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        sources = [init_settings, env_settings]
        path = _toml_path.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def resolved_watches(self) -> list[ResolvedWatch]:
        out = []
        for w in self.watch:
            base = self.profiles.get(w.profile, CleanParams())
            params = base.model_copy(update=w.clean) if w.clean else base
            params = CleanParams.model_validate(params.model_dump())
            d = self.daemon
            out.append(ResolvedWatch(
                input=w.input, output=w.output, archive=w.archive, failed=w.failed, polling=w.polling,
                settle_seconds=w.settle_seconds if w.settle_seconds is not None else d.settle_seconds,
                poll_interval_seconds=w.poll_interval_seconds if w.poll_interval_seconds is not None else d.poll_interval_seconds,
                stuck_after_seconds=w.stuck_after_seconds if w.stuck_after_seconds is not None else d.stuck_after_seconds,
                output_format=w.output_format, clean=params,
            ))
        return out


def load_config(path: Path | str | None = None) -> AppConfig:
    path = Path(path) if path is not None else None
    token = _toml_path.set(path)
    try:
        cfg = AppConfig()
    finally:
        _toml_path.reset(token)
    if path is not None:
        base = path.resolve().parent
        for w in cfg.watch:
            for key in ("input", "output", "archive", "failed"):
                p = getattr(w, key)
                if not p.is_absolute():
                    setattr(w, key, base / p)
    return cfg
