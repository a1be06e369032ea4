"""The configuration: one typed, strict model, loaded from TOML and environment.

Contract other modules rely on:

* :func:`resolve_config_path(arg) -> Path`: ``--config`` wins, else
  ``$DESPECKLED_CONFIG``, else ``/etc/despeckled/config.toml``. Every command
  that reads the config calls it, so the precedence lives in one place.
* :func:`load_config(path=None) -> AppConfig`: reads the file with
  pydantic-settings' :class:`~pydantic_settings.TomlConfigSettingsSource`,
  lets ``DESPECKLED_*`` environment variables override keys (nested keys via
  ``__``: ``DESPECKLED_DAEMON__WORKERS=4``), resolves relative paths against
  the config file's folder, and raises :class:`~despeckled.errors.ConfigError`
  listing *every* problem, each naming its key.
* ``AppConfig.daemon`` (:class:`DaemonSettings`), ``AppConfig.profiles``
  (name -> :class:`~despeckled.clean.CleanParams`), ``AppConfig.watch``
  (list of :class:`WatchSettings`), ``log_format``, ``log_level``.
* :meth:`AppConfig.resolved_watches` -> list of :class:`ResolvedWatch`, each
  with its effective daemon settings and cleaning parameters.
* :func:`layout_problems(watches)` / :func:`check_layout(watches)`: where the
  watches' folders lie (filing folders inside an input, same or nested
  inputs, a claim across filesystems). ``run`` (at start and on SIGHUP) and
  ``check-config`` both ask these, so they refuse exactly the same layouts.

Strictness: an unknown key, in the file or as a ``DESPECKLED_`` variable, is
an error that names it and suggests the likely intended key, so a renamed or
misspelt setting is never silently ignored. A wrong type names the key and
the bad value.

Cleaning settings are :class:`~despeckled.clean.CleanParams` itself (the
profiles), and per-watch ``clean = {...}`` overrides are checked against a
model derived from ``CleanParams.model_fields``, so the two cannot drift.
"""

from __future__ import annotations

import contextvars
import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.exceptions import SettingsError

from despeckled.clean import CleanParams
from despeckled.errors import ConfigError
from despeckled.io.fsutil import existing_ancestor

from despeckled.config_source import CONFIG_ENV, DEFAULT_CONFIG_PATH, ENV_PREFIX  # noqa: F401 - re-exported

ENV_NESTED_DELIMITER = "__"
#: ``DESPECKLED_*`` variables that are not settings, so the strictness check
#: leaves them alone. Add a name here (and to the README) before using one.
NON_SETTING_ENV = frozenset({CONFIG_ENV})

PROFILE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

_toml_path: contextvars.ContextVar[Path | None] = contextvars.ContextVar("_toml_path", default=None)
_skip_env: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("_skip_env", default=frozenset())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _overrides_model() -> type[BaseModel]:
    """A model with every :class:`CleanParams` field, all optional (unset by
    default), with the same types, constraints and descriptions: the shape of
    a per-watch ``clean = {...}`` table. Derived, never copied, so it follows
    every change to ``CleanParams``."""
    fields: dict[str, Any] = {}
    for name, info in CleanParams.model_fields.items():
        fi = FieldInfo.merge_field_infos(info, default=None)
        fields[name] = (info.annotation | None, fi)
    return create_model(
        "CleanOverrides",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__="Per-watch overrides of the profile's cleaning settings (any CleanParams field).",
        **fields,
    )


CleanOverrides = _overrides_model()


class DaemonSettings(_Strict):
    """``[daemon]``: how the service runs. Per-watch keys override some of these."""

    workers: int = Field(2, ge=1, description="parallel cleaning worker processes")
    settle_seconds: float = Field(5.0, ge=0, description="a file must be unchanged this long before it is taken")
    poll_interval_seconds: float = Field(2.0, gt=0, description="scan interval for polled watches (network shares)")
    rescan_interval_seconds: float = Field(60.0, gt=0, description="full rescan of every watch folder, catches missed events")
    stuck_after_seconds: float = Field(900.0, gt=0, description="a file still changing after this long is reported as stuck")
    file_timeout_seconds: float = Field(300.0, gt=0, description="per-file processing limit; a file over it goes to failed")
    stop_timeout_seconds: float = Field(20.0, ge=0, description="on stop, how long in-flight files may take to finish")
    max_pixels: int = Field(250_000_000, gt=0, description="per-page pixel limit against decompression bombs")
    max_pages: int = Field(2000, gt=0, description="page limit per file")
    max_retries: int = Field(5, ge=0, description="transient I/O errors (a share that blipped) are retried this often, with backoff")
    watch_archived_seconds: float = Field(
        30.0, ge=0, description="after filing, the archived original is watched this long (from its last change) for a "
        "scanner still writing into it; a change cleans it again (changed_after_claim); 0: off"
    )
    force_pdf: bool = Field(
        False, description="clean PDFs that have vector text or an OCR layer too (false: they are copied to output unchanged)"
    )
    state_file: Path | None = Field(
        None,
        description="status file read by `despeckled status`; unset: $RUNTIME_DIRECTORY/state.json, else "
        "/run/despeckled/state.json, else $XDG_RUNTIME_DIR/despeckled/state.json, else a per-user temp folder",
    )
    claim_lease_seconds: float = Field(
        60.0, gt=0, description="a claimed file's lease: renewed while it is worked on; another host takes over a "
        "claim not renewed for this long (a dead host's files). Same value on every host"
    )
    metrics_listen: str | None = Field(
        None, description='serve Prometheus metrics at http://HOST:PORT/metrics, such as "127.0.0.1:9464"; '
        "keep it on loopback unless a proxy guards it (unset: off)"
    )
    metrics_file: Path | None = Field(
        None, description="write Prometheus metrics to this file every few seconds and at stop, for "
        "node_exporter's textfile collector (must end in .prom; unset: off)"
    )

    metrics_file_interval_seconds: float = Field(
        5.0, gt=0, description="how often metrics_file is rewritten"
    )

    @field_validator("metrics_listen")
    @classmethod
    def _check_listen(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value

    @field_validator("metrics_file")
    @classmethod
    def _check_metrics_file(cls, value: Path | None) -> Path | None:
        if value is not None and not str(value).endswith(".prom"):
            raise ValueError("must end in .prom (node_exporter's textfile collector reads only those)")
        return value


def parse_listen(value: str) -> tuple[str, int]:
    """``"HOST:PORT"`` (``"[::1]:9464"`` for IPv6) -> ``(host, port)``.

    >>> parse_listen("127.0.0.1:9464"), parse_listen("[::1]:9464"), parse_listen("localhost:80")
    (('127.0.0.1', 9464), ('::1', 9464), ('localhost', 80))
    >>> parse_listen("9464")
    Traceback (most recent call last):
    ...
    ValueError: must be HOST:PORT, such as 127.0.0.1:9464
    """
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("must be HOST:PORT, such as 127.0.0.1:9464")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _parse_polling(value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low == "auto":
            return "auto"
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0"):
            return False
    raise ValueError('must be true, false or "auto"')


class WatchSettings(_Strict):
    """One ``[[watch]]`` table: an input folder and where its files go."""

    input: Path = Field(description="the scanner's drop folder")
    output: Path = Field(description="cleaned pages go here")
    archive: Path = Field(description="untouched originals are moved here")
    failed: Path = Field(description="files that cannot be processed go here, each with a .error.json reason")
    polling: bool | Literal["auto"] = Field(
        "auto", description='"auto": poll network/FUSE filesystems (no inotify events there), else inotify; true/false to force'
    )
    create_folders: bool = Field(
        False, description="create input, output, archive and failed at start if missing; false: they must exist, "
        "and while one is missing (a share not mounted) its files wait; never created after start"
    )
    profile: str = Field("default", description="the [profiles.NAME] these pages are cleaned with")
    clean: CleanOverrides = Field(  # type: ignore[valid-type]
        default_factory=CleanOverrides, description="per-watch overrides of the profile's cleaning settings"
    )
    settle_seconds: float | None = Field(None, ge=0, description="overrides daemon.settle_seconds for this watch")
    poll_interval_seconds: float | None = Field(None, gt=0, description="overrides daemon.poll_interval_seconds for this watch")
    stuck_after_seconds: float | None = Field(None, gt=0, description="overrides daemon.stuck_after_seconds for this watch")
    output_format: Literal["png", "jpeg", "tiff", "bmp", "pdf"] | None = Field(
        None, description="output file format: png, jpeg, tiff, bmp or pdf; unset: the same format as the input"
    )
    force_pdf: bool | None = Field(None, description="overrides daemon.force_pdf for this watch")

    @field_validator("polling", mode="before")
    @classmethod
    def _polling(cls, v: Any) -> bool | str:
        return _parse_polling(v)

    @field_validator("output_format", mode="before")
    @classmethod
    def _normalise_format(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        v = v.strip().lower().lstrip(".")
        return {"jpg": "jpeg", "tif": "tiff"}.get(v, v)

    def clean_overrides(self) -> dict[str, Any]:
        """Only the cleaning keys this watch sets explicitly."""
        return self.clean.model_dump(exclude_unset=True)


class ResolvedWatch(BaseModel):
    """A watch with everything filled in: absolute folders, the effective
    daemon settings and the final cleaning parameters.

    The one watch type from the config to the worker: the layout checks,
    the service's runtime state and every job a worker runs hold this
    (frozen, so it pickles to the workers as it is).
    """

    model_config = ConfigDict(frozen=True)
    input: Path
    output: Path
    archive: Path
    failed: Path
    clean: CleanParams
    polling: bool | Literal["auto"] = "auto"
    settle_seconds: float = 5.0
    poll_interval_seconds: float = 2.0
    stuck_after_seconds: float = 900.0
    output_format: str | None = None
    profile: str = "default"
    #: clean PDFs with a text or OCR layer too, instead of passing them through
    force_pdf: bool = False
    max_pixels: int = 250_000_000
    max_pages: int = 2000
    max_retries: int = 5
    #: create the four folders at start if missing (else they must exist)
    create_folders: bool = False

    @property
    def limits(self):
        """The reader's limits (:class:`despeckled.io.images.Limits`)."""
        from despeckled.io.images import Limits

        return Limits(max_pixels=self.max_pixels, max_pages=self.max_pages)


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' own env source, minus the variables the strictness
    check has already reported (so one mistake yields one message)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = super()._load_env_vars()
        skip = _skip_env.get()
        return {k: v for k, v in env.items() if k.upper() not in skip} if skip else env


class AppConfig(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTED_DELIMITER, extra="forbid", case_sensitive=False
    )

    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: JSON lines unless stderr is a terminal (journald gets JSON)"
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field("info", description="least severe level logged")
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    profiles: dict[str, CleanParams] = Field(
        default_factory=lambda: {"default": CleanParams()},
        description="named cleaning profiles; 'default' always exists",
    )
    watch: list[WatchSettings] = Field(default_factory=list, description="the folders to watch, one [[watch]] table each")

    _source_path: Path | None = PrivateAttr(default=None)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("profiles", mode="after")
    @classmethod
    def _keep_default(cls, v: dict[str, CleanParams]) -> dict[str, CleanParams]:
        bad = [name for name in v if not PROFILE_NAME_RE.match(name)]
        if bad:
            raise ValueError(
                f"profile names must be lower-case letters, digits, '-' and '_': {', '.join(map(repr, bad))}"
            )
        # A user-defined [profiles.photos] must not remove the default profile.
        return {"default": CleanParams(), **v} if "default" not in v else v

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        sources = [init_settings, _EnvSource(settings_cls)]
        path = _toml_path.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def source_path(self) -> Path | None:
        """The config file this was loaded from (``None``: defaults and environment only)."""
        return self._source_path

    def clean_params_for(self, w: WatchSettings) -> CleanParams:
        """The profile's settings with the watch's overrides on top, validated
        as a whole by :class:`CleanParams` (cross-field rules included)."""
        base = self.profiles[w.profile]
        return CleanParams.model_validate({**base.model_dump(exclude_unset=True), **w.clean_overrides()})

    def resolved_watches(self) -> list[ResolvedWatch]:
        d = self.daemon
        out = []
        for w in self.watch:
            out.append(ResolvedWatch(
                input=w.input, output=w.output, archive=w.archive, failed=w.failed, polling=w.polling,
                settle_seconds=d.settle_seconds if w.settle_seconds is None else w.settle_seconds,
                poll_interval_seconds=d.poll_interval_seconds if w.poll_interval_seconds is None else w.poll_interval_seconds,
                stuck_after_seconds=d.stuck_after_seconds if w.stuck_after_seconds is None else w.stuck_after_seconds,
                output_format=w.output_format, clean=self.clean_params_for(w), profile=w.profile,
                force_pdf=d.force_pdf if w.force_pdf is None else w.force_pdf,
                max_pixels=d.max_pixels, max_pages=d.max_pages, max_retries=d.max_retries,
                create_folders=w.create_folders,
            ))
        return out


# --------------------------------------------------------------------------
# Loading


def resolve_config_path(arg: str | os.PathLike[str] | None = None) -> Path:
    """The config file to read: an explicit argument (``--config``) wins, else
    ``$DESPECKLED_CONFIG``, else ``/etc/despeckled/config.toml``.

    >>> str(resolve_config_path("site.toml"))
    'site.toml'
    """
    if arg:
        return Path(arg)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return DEFAULT_CONFIG_PATH


def load_config(path: str | os.PathLike[str] | None = None, *, missing_ok: bool = False) -> AppConfig:
    """Load, validate and resolve the configuration.

    ``path=None`` uses :func:`resolve_config_path`. A missing file is an
    error, except that with ``missing_ok=True`` a missing *default* file
    (neither ``path`` nor ``$DESPECKLED_CONFIG`` given) means "built-in
    defaults plus environment" -- what ``despeckled clean`` wants.

    Raises :class:`~despeckled.errors.ConfigError` (exit code 3) whose
    ``problems`` lists every problem found, each naming its key.
    """
    explicit = path is not None or bool(os.environ.get(CONFIG_ENV))
    file: Path | None = resolve_config_path(path)
    problems: list[str] = []
    assert file is not None
    if not file.exists():
        if missing_ok and not explicit:
            file = None
        else:
            origin = "--config" if path is not None else CONFIG_ENV if explicit else "the default location"
            raise ConfigError(f"config file not found: {file} (from {origin})")
    elif not file.is_file():
        raise ConfigError(f"config file is not a regular file: {file}")
    else:
        try:
            with open(file, "rb") as fh:
                tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: not UTF-8 text (byte {exc.start})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None

    env_problems, bad_env = check_environment(os.environ)
    problems += env_problems
    env_values = _env_values(bad_env)

    cfg: AppConfig | None = None
    t_path = _toml_path.set(file.resolve() if file else None)
    t_skip = _skip_env.set(frozenset(bad_env))
    try:
        cfg = AppConfig()
    except ValidationError as exc:
        problems += [format_error(e, env_values) for e in exc.errors()]
    except SettingsError as exc:
        problems.append(_settings_error_message(exc))
    finally:
        _toml_path.reset(t_path)
        _skip_env.reset(t_skip)

    if cfg is not None:
        problems += _semantic_problems(cfg)
    elif file is not None:
        # The semantic pass needs a valid model; still report unknown profiles.
        problems += _raw_profile_problems(file, env_values)
    where = str(file) if file else "configuration (defaults and environment)"
    if problems:
        raise ConfigError(f"{where}: {len(problems)} problem{'s' if len(problems) > 1 else ''}", problems)
    assert cfg is not None
    base = file.resolve().parent if file else Path.cwd()
    _resolve_paths(cfg, base)
    cfg._source_path = file.resolve() if file else None
    return cfg


def _resolve_paths(cfg: AppConfig, base: Path) -> None:
    """Relative paths (wherever they came from) resolve against ``base``, the
    config file's folder."""

    def fix(p: Path) -> Path:
        return Path(os.path.normpath(p if p.is_absolute() else base / p))

    for w in cfg.watch:
        for key in ("input", "output", "archive", "failed"):
            setattr(w, key, fix(getattr(w, key)))
    if cfg.daemon.state_file is not None:
        cfg.daemon.state_file = fix(cfg.daemon.state_file)
    if cfg.daemon.metrics_file is not None:
        cfg.daemon.metrics_file = fix(cfg.daemon.metrics_file)


def _semantic_problems(cfg: AppConfig) -> list[str]:
    """Problems that span keys: unknown profiles, overrides that CleanParams
    rejects in combination with their profile."""
    problems = []
    for i, w in enumerate(cfg.watch):
        if w.profile not in cfg.profiles:
            known = sorted(cfg.profiles)
            problems.append(
                f"watch[{i}].profile: unknown profile {w.profile!r}{_did_you_mean(w.profile, known)}"
                f" (defined: {', '.join(known)})"
            )
            continue
        try:
            cfg.clean_params_for(w)
        except ValidationError as exc:
            overrides = w.clean_overrides()
            for e in exc.errors():
                key = e["loc"][0] if e["loc"] else None
                where = ("watch", i, "clean", key) if key in overrides else ("profiles", w.profile, key) if key else ("watch", i, "clean")
                problems.append(format_error({**e, "loc": where}, {}))
    return problems


def _raw_profile_problems(file: Path, env_values: Mapping[str, Any]) -> list[str]:
    with open(file, "rb") as fh:
        data = tomllib.load(fh)
    profiles = {"default"}
    for src in (data, env_values):
        if isinstance(src.get("profiles"), dict):
            profiles |= set(src["profiles"])
    watches = env_values.get("watch", data.get("watch"))
    problems = []
    for i, w in enumerate(watches if isinstance(watches, list) else []):
        name = w.get("profile", "default") if isinstance(w, dict) else "default"
        if isinstance(name, str) and name not in profiles:
            known = sorted(profiles)
            problems.append(
                f"watch[{i}].profile: unknown profile {name!r}{_did_you_mean(name, known)} (defined: {', '.join(known)})"
            )
    return problems


def _settings_error_message(exc: SettingsError) -> str:
    m = re.search(r'field "([^"]+)"', str(exc))
    field = m.group(1) if m else "?"
    cause = exc.__cause__
    why = f": {cause}" if cause else ""
    return f"{ENV_PREFIX}{field.upper()}: not valid JSON{why}"


def _env_values(skip: set[str]) -> dict[str, Any]:
    """What the environment contributes, as a nested dict (for telling the
    user which variable a bad value came from)."""
    t = _skip_env.set(frozenset(skip))
    try:
        return dict(_EnvSource(AppConfig)())
    except SettingsError:
        return {}
    finally:
        _skip_env.reset(t)


# --------------------------------------------------------------------------
# Error messages that name the key


def key_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic error location as the key path a user would write.

    >>> key_path(("watch", 1, "settle_secnds"))
    'watch[1].settle_secnds'
    >>> key_path(("profiles", "my photos", "mode"))
    'profiles."my photos".mode'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            s = str(part)
            if not re.fullmatch(r"[A-Za-z0-9_-]+", s):
                s = '"' + s.replace('"', '\\"') + '"'
            out += ("." if out else "") + s
    return out


_TYPE_WORDS = {
    "int_parsing": "is not a valid integer",
    "int_type": "is not a valid integer",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a valid number",
    "float_type": "is not a valid number",
    "bool_parsing": "is not a valid boolean (use true or false)",
    "bool_type": "is not a valid boolean (use true or false)",
    "string_type": "is not a string",
    "path_type": "is not a valid path",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "list_type": "must be a list of tables",
}


def _short_repr(value: Any, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def format_error(err: Mapping[str, Any], env_values: Mapping[str, Any]) -> str:
    """One pydantic error as one line: key path, bad value, what is wrong."""
    loc = tuple(err["loc"])
    kind = err["type"]
    key = key_path(loc)
    env_var = _env_var_for(loc, env_values)
    if env_var:
        key = f"{key} (from {env_var})"
    if kind == "extra_forbidden":
        return f"{key}: unknown key{_suggest_key(loc)}"
    if kind == "missing":
        return f"{key}: required key is missing"
    value = _short_repr(err.get("input"))
    if kind == "list_type" and all(isinstance(p, str) for p in loc):
        return f"{key}: must be a list of tables: write each one as [[{key_path(loc)}]] (double brackets)"
    if kind in _TYPE_WORDS:
        return f"{key}: {value} {_TYPE_WORDS[kind]}"
    msg = str(err.get("msg", ""))
    msg = re.sub(r"^(Value error|Assertion failed), ", "", msg)
    msg = re.sub(r"^Input should", "should", msg)
    if kind == "literal_error":
        return f"{key}: {value} is not allowed: {msg}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{key}: {value} is out of range: {msg}"
    return f"{key}: {value}: {msg}" if "input" in err and kind != "value_error" else f"{key}: {msg}"


def _env_var_for(loc: tuple[Any, ...], env_values: Mapping[str, Any]) -> str | None:
    parts: list[str] = []
    node: Any = env_values
    for part in loc:
        if not isinstance(node, Mapping) or not isinstance(part, str):
            break
        match = next((k for k in node if k.lower() == part.lower()), None)
        if match is None:
            return None
        parts.append(part)
        node = node[match]
    if not parts:
        return None
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(parts).upper()


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    m = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {m[0]!r}?" if m else ""


def _unwrap(tp: Any) -> Any:
    """``X | None`` -> ``X``; ``Annotated[X, ...]`` -> ``X``."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _descend(tp: Any, part: Any) -> Any:
    """The type found one step below ``tp`` at ``part`` (``None``: nothing)."""
    tp = _unwrap(tp)
    if _is_model(tp):
        f = tp.model_fields.get(part) if isinstance(part, str) else None
        return f.annotation if f else None
    origin = typing.get_origin(tp)
    if origin is list:
        return typing.get_args(tp)[0]
    if origin is dict:
        return typing.get_args(tp)[1]
    return None


def _type_at(loc: tuple[Any, ...]) -> Any:
    tp: Any = AppConfig
    for part in loc:
        tp = _descend(tp, part)
        if tp is None:
            return None
    return _unwrap(tp)


def iter_field_paths(tp: Any = AppConfig, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], FieldInfo]]:
    """Every settable key below ``tp``: ``(path, FieldInfo)``, with ``"*"``
    for a dict key (a profile name) and ``0`` for a list index."""
    tp = _unwrap(tp)
    if not _is_model(tp):
        return
    for name, info in tp.model_fields.items():
        path = (*prefix, name)
        yield path, info
        inner = _unwrap(info.annotation)
        origin = typing.get_origin(inner)
        if origin is list:
            yield from iter_field_paths(typing.get_args(inner)[0], (*path, 0))
        elif origin is dict:
            yield from iter_field_paths(typing.get_args(inner)[1], (*path, "*"))
        else:
            yield from iter_field_paths(inner, path)


def _table_name(path: tuple[Any, ...]) -> str:
    if not path:
        return "the top level"
    if path[-1] == 0:
        return f"[[{'.'.join(str(p) for p in path[:-1])}]]"
    names = ["NAME" if p == "*" else str(p) for p in path if p != 0]
    return f"[{'.'.join(names)}]"


def _suggest_key(loc: tuple[Any, ...]) -> str:
    """'; did you mean ...?' for an unknown key at ``loc``, or ''."""
    container, word = loc[:-1], str(loc[-1])
    tp = _type_at(container)
    if _is_model(tp):
        hint = _did_you_mean(word, tuple(tp.model_fields))
        if hint:
            return hint
        # a key of a table nested below this one (e.g. 'median' under [[watch]])
        for path, _ in iter_field_paths(tp):
            if path[-1] == word and len(path) == 2:
                return f"; did you mean {key_path(path)!r}?"
    # a key that belongs in another table (e.g. 'workers' at the top level)
    homes = sorted({_table_name(path[:-1]) for path, _ in iter_field_paths() if path[-1] == word})
    if homes:
        return f"; it belongs in {' or '.join(homes)}"
    return ""


# --------------------------------------------------------------------------
# Strict environment


def check_environment(environ: Mapping[str, str]) -> tuple[list[str], set[str]]:
    """Problems with ``DESPECKLED_*`` variables that name no setting
    (pydantic-settings would silently ignore them), and the set of those
    variable names (upper-case).

    >>> check_environment({"DESPECKLED_DAEMON__WORKRES": "4", "DESPECKLED_LOG_LEVEL": "debug"})[0]
    ["DESPECKLED_DAEMON__WORKRES: unknown setting; did you mean 'DESPECKLED_DAEMON__WORKERS'?"]
    """
    problems, bad = [], set()
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in NON_SETTING_ENV:
            continue
        why = _env_name_problem(upper[len(ENV_PREFIX):].lower())
        if why:
            problems.append(f"{name}: {why}")
            bad.add(upper)
    return problems, bad


def _env_name(parts: list[str] | tuple[str, ...]) -> str:
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(parts).upper()


def _env_name_problem(rest: str) -> str | None:
    parts = rest.split(ENV_NESTED_DELIMITER)
    tp: Any = AppConfig
    for i, part in enumerate(parts):
        tp = _unwrap(tp)
        done = parts[:i]
        if _is_model(tp):
            fields = tuple(tp.model_fields)
            if part in fields:
                tp = tp.model_fields[part].annotation
                continue
            # DESPECKLED_DAEMON_WORKERS: single underscore where '__' was meant
            for f in fields:
                if part.startswith(f + "_") and _env_name_problem(
                    ENV_NESTED_DELIMITER.join([*done, f, part[len(f) + 1:], *parts[i + 1:]])
                ) is None:
                    return f"unknown setting; did you mean {_env_name([*done, f, part[len(f) + 1:], *parts[i + 1:]])!r}? (nested keys are joined with '__')"
            m = difflib.get_close_matches(part, fields, n=1, cutoff=0.6)
            hint = f"; did you mean {_env_name([*done, m[0], *parts[i + 1:]])!r}?" if m else ""
            return f"unknown setting{hint}"
        origin = typing.get_origin(tp)
        if origin is dict:
            if not part:
                return "empty name between '__' delimiters"
            tp = typing.get_args(tp)[1]
            continue
        if origin is list:
            return (f"a list can only be set as a whole, as JSON: "
                    f"{_env_name(done)}='[{{\"input\": \"...\", ...}}]'")
        return f"{_env_name(done)} is a single value and has no sub-key {part!r}"
    return None


# --------------------------------------------------------------------------
# Layout: where the watches' folders lie, checked the same way by `run`
# (at start and on SIGHUP) and by `check-config`

#: The folders a watch files into, besides its input.
FILING_ROLES = ("output", "archive", "failed")


def _real(p: Path) -> Path:
    return Path(os.path.realpath(p))


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def claim_folder(w: ResolvedWatch) -> Path:
    """The folder the daemon's claim rename lands in (``<input>/.despeckled/work``):
    a claim is one rename, so it must be on the input's filesystem."""
    from despeckled.daemon.folders import work_root  # named once, for the lifecycle too

    return work_root(w.input)


def claim_crosses_filesystems(w: ResolvedWatch) -> bool:
    """Whether claiming a file (one rename from the input into
    :func:`claim_folder`) would cross filesystems, as far as the folders that
    exist can tell (a folder not made yet is on its parent's filesystem)."""
    inp, work = existing_ancestor(w.input), existing_ancestor(claim_folder(w))
    if not (inp.is_dir() and work.is_dir()):
        return False
    return os.stat(inp).st_dev != os.stat(work).st_dev


def _layout_findings(watches: list[ResolvedWatch]) -> list[tuple[str, str]]:
    """``(kind, problem)`` for every way the folders would loop, race or
    lose the claim's atomicity; ``kind`` is a short summary for a headline."""
    found: list[tuple[str, str]] = []
    inputs = [_real(w.input) for w in watches]
    for i, w in enumerate(watches):
        for role in FILING_ROLES:
            real = _real(getattr(w, role))
            for j, inp in enumerate(inputs):
                if _inside(real, inp):
                    found.append((f"a loop: {role} folder inside the watched input",
                                  f"watch[{i}].{role}: {getattr(w, role)} lies inside watch[{j}].input "
                                  f"{watches[j].input}: files filed there would be picked up again"))
        for j, inp in enumerate(inputs[:i]):
            if inp == inputs[i]:
                found.append(("a race: watch inputs overlap", f"watch[{i}].input: {w.input} is also watch[{j}].input: "
                                                      "two watches would race for each file"))
            elif _inside(inputs[i], inp) or _inside(inp, inputs[i]):
                found.append(("a race: watch inputs overlap", f"watch[{i}].input: {w.input} and watch[{j}].input "
                                                      f"{watches[j].input} are nested: watch inputs overlap, "
                                                      "two watches would race for the inner one's files"))
        if claim_crosses_filesystems(w):
            found.append(("a non-atomic claim: a work folder on another filesystem",
                          f"watch[{i}].input: {w.input} and its work folder {claim_folder(w)} are on different "
                          "filesystems: claiming a file by rename would not be atomic"))
    return found


def layout_problems(watches: list[ResolvedWatch]) -> list[str]:
    """Every problem with where the watches' folders lie: an output, archive
    or failed folder inside any watched input (symlinks followed), two
    inputs that are the same folder or nested, and an input whose claim
    folder is on another filesystem. ``[]`` when the layout is sound."""
    return [problem for _, problem in _layout_findings(watches)]


def check_layout(watches: list[ResolvedWatch]) -> None:
    """Raise :class:`~despeckled.errors.ConfigError` listing
    :func:`layout_problems`, if any: ``run`` refuses to start (or a SIGHUP
    reload is refused) on exactly what ``check-config`` reports.

    >>> w = ResolvedWatch(input="/s/in", output="/s/in/clean", archive="/s/a", failed="/s/f", polling="auto",
    ...                   settle_seconds=1, poll_interval_seconds=1, stuck_after_seconds=9, output_format=None,
    ...                   clean=CleanParams())
    >>> check_layout([w])
    Traceback (most recent call last):
    ...
    despeckled.errors.ConfigError: the configuration would make a loop: output folder inside the watched input
      - watch[0].output: /s/in/clean lies inside watch[0].input /s/in: files filed there would be picked up again
    """
    found = _layout_findings(watches)
    if found:
        kinds = list(dict.fromkeys(kind for kind, _ in found))
        raise ConfigError(f"the configuration would make {'; '.join(kinds)}", [p for _, p in found])
