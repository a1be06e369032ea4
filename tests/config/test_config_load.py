"""Loading the config: file, environment, strictness, paths, profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from despeckled.clean import CleanParams
from despeckled.config import DEFAULT_CONFIG_PATH, load_config, resolve_config_path
from despeckled.errors import ConfigError, ExitCode

WATCH = """
[[watch]]
input = "in"
output = "out"
archive = "archive"
failed = "failed"
"""


def problems_of(path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.exit_code == ExitCode.bad_config
    return info.value.problems


# -- file ------------------------------------------------------------------


def test_loads_values_from_the_file(write_config):
    cfg = load_config(write_config("""
        log_level = "DEBUG"
        [daemon]
        workers = 3
        settle_seconds = 1.5
    """ + WATCH))
    assert cfg.log_level == "debug"
    assert cfg.daemon.workers == 3
    assert cfg.daemon.settle_seconds == 1.5
    assert cfg.daemon.max_pages == 2000  # untouched keys keep their defaults
    assert len(cfg.watch) == 1


def test_relative_paths_resolve_against_the_config_folder(write_config, tmp_path, monkeypatch):
    path = write_config("""
        [daemon]
        state_file = "run/state.json"
        [[watch]]
        input = "scans/in"
        output = "../elsewhere/out"
        archive = "/abs/archive"
        failed = "failed"
    """, name="etc/site.toml")
    monkeypatch.chdir("/")  # the working directory must not matter
    cfg = load_config(path)
    etc = tmp_path / "etc"
    (w,) = cfg.resolved_watches()
    assert w.input == etc / "scans" / "in"
    assert w.output == tmp_path / "elsewhere" / "out"
    assert w.archive == Path("/abs/archive")
    assert w.failed == etc / "failed"
    assert cfg.daemon.state_file == etc / "run" / "state.json"
    assert cfg.source_path == path.resolve()


def test_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="not found: .*nope.toml"):
        load_config(tmp_path / "nope.toml")


def test_missing_default_file_is_fine_only_when_asked(monkeypatch):
    if DEFAULT_CONFIG_PATH.exists():
        pytest.skip("this machine has a real /etc/despeckled/config.toml")
    cfg = load_config(missing_ok=True)
    assert cfg.watch == [] and "default" in cfg.profiles
    with pytest.raises(ConfigError, match="not found"):
        load_config()


def test_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML: not UTF-8 text"):
        load_config(path)


def test_a_folder_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(tmp_path)


def test_invalid_toml_names_the_file_and_position(write_config):
    path = write_config("[daemon]\nworkers = \n")
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML: .*line 2"):
        load_config(path)


# -- strictness ------------------------------------------------------------


def test_every_unknown_key_is_named_with_a_suggestion(write_config):
    problems = problems_of(write_config("""
        log_levl = "debug"
        workers = 4
        [deamon]
        [daemon]
        settle_secnds = 3
        [profiles.photos]
        medain = true
        [[watch]]
        input = "in"
        output = "out"
        archive = "archive"
        failed = "failed"
        settle_secnds = 3
        median = true
        clean = { remove_dusst = false }
    """))
    assert problems == [
        "daemon.settle_secnds: unknown key; did you mean 'settle_seconds'?",
        "profiles.photos.medain: unknown key; did you mean 'median'?",
        "watch[0].clean.remove_dusst: unknown key; did you mean 'remove_dust'?",
        "watch[0].settle_secnds: unknown key; did you mean 'settle_seconds'?",
        "watch[0].median: unknown key; did you mean 'clean.median'?",
        "log_levl: unknown key; did you mean 'log_level'?",
        "workers: unknown key; did you mean 'daemon.workers'?",
        "deamon: unknown key; did you mean 'daemon'?",
    ]


def test_wrong_types_name_the_key_and_the_bad_value(write_config):
    problems = problems_of(write_config("""
        log_format = "xml"
        [daemon]
        workers = "two"
        settle_seconds = -1
        [profiles.default]
        median = "maybe"
        [[watch]]
        input = "in"
        output = "out"
        archive = "archive"
        polling = "sometimes"
        clean = { threshold_value = 999 }
    """))
    assert "daemon.workers: 'two' is not a valid integer" in problems
    assert "daemon.settle_seconds: -1 is out of range: should be greater than or equal to 0" in problems
    assert "profiles.default.median: 'maybe' is not a valid boolean (use true or false)" in problems
    assert "log_format: 'xml' is not allowed: should be 'auto', 'json' or 'console'" in problems
    assert 'watch[0].polling: must be true, false or "auto"' in problems
    assert "watch[0].failed: required key is missing" in problems
    assert "watch[0].clean.threshold_value: 999 is out of range: should be less than or equal to 254" in problems
    assert len(problems) == 7


def test_unknown_profile_is_named_even_alongside_other_errors(write_config):
    problems = problems_of(write_config("""
        [profiles.photos]
        mode = "gray"
        [daemon]
        workers = 0
    """ + WATCH + 'profile = "fotos"\n'))
    assert "watch[0].profile: unknown profile 'fotos'; did you mean 'photos'? (defined: default, photos)" in problems
    assert any(p.startswith("daemon.workers: 0 is out of range") for p in problems)


def test_bad_profile_names_are_rejected(write_config):
    (problem,) = problems_of(write_config('[profiles."My Photos"]\nmedian = true\n'))
    assert problem.startswith("profiles: profile names must be lower-case") and "'My Photos'" in problem


# -- profiles and overrides ------------------------------------------------


def test_user_profiles_keep_the_default_profile(write_config):
    cfg = load_config(write_config('[profiles.photos]\nmode = "gray"\n'))
    assert set(cfg.profiles) == {"default", "photos"}
    assert cfg.profiles["default"] == CleanParams()
    assert cfg.profiles["photos"].mode == "gray"


def test_watch_uses_its_profile_plus_overrides(write_config):
    cfg = load_config(write_config("""
        [profiles.photos]
        mode = "gray"
        median = true
    """ + WATCH + 'profile = "photos"\nclean = { median = false, opening = true }\nsettle_seconds = 0.5\n'))
    (w,) = cfg.resolved_watches()
    assert w.profile == "photos"
    assert w.clean == CleanParams(mode="gray", median=False, opening=True)
    assert isinstance(w.clean, CleanParams)
    assert w.settle_seconds == 0.5
    assert w.poll_interval_seconds == cfg.daemon.poll_interval_seconds


def test_force_pdf_daemon_default_overridable_per_watch(write_config):
    cfg = load_config(write_config(WATCH + WATCH.replace('"in"', '"in2"') + "force_pdf = true\n"))
    assert [w.force_pdf for w in cfg.resolved_watches()] == [False, True]  # default: text PDFs pass through
    cfg = load_config(write_config("[daemon]\nforce_pdf = true\n" + WATCH + WATCH.replace('"in"', '"in2"')
                                   + "force_pdf = false\n"))
    assert [w.force_pdf for w in cfg.resolved_watches()] == [True, False]


def test_overrides_model_follows_cleanparams():
    from despeckled.config import CleanOverrides

    assert set(CleanOverrides.model_fields) == set(CleanParams.model_fields)


# -- environment -----------------------------------------------------------


def test_environment_overrides_nested_keys(write_config, monkeypatch):
    path = write_config("[daemon]\nworkers = 3\nsettle_seconds = 9\n" + WATCH)
    monkeypatch.setenv("DESPECKLED_DAEMON__WORKERS", "5")
    monkeypatch.setenv("DESPECKLED_LOG_LEVEL", "warning")
    monkeypatch.setenv("DESPECKLED_PROFILES__DEFAULT__MEDIAN", "true")
    cfg = load_config(path)
    assert cfg.daemon.workers == 5
    assert cfg.daemon.settle_seconds == 9  # the file's other keys survive
    assert cfg.log_level == "warning"
    assert cfg.resolved_watches()[0].clean.median is True


def test_environment_watch_list_as_json(write_config, monkeypatch, tmp_path):
    path = write_config("")
    monkeypatch.setenv(
        "DESPECKLED_WATCH",
        '[{"input": "a", "output": "b", "archive": "c", "failed": "d", "clean": {"median": true}}]',
    )
    (w,) = load_config(path).resolved_watches()
    assert w.input == tmp_path / "a" and w.clean.median is True


def test_config_path_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("DESPECKLED_CONFIG", str(tmp_path / "env.toml"))
    assert resolve_config_path("arg.toml") == Path("arg.toml")
    assert resolve_config_path(None) == tmp_path / "env.toml"
    monkeypatch.delenv("DESPECKLED_CONFIG")
    assert resolve_config_path(None) == DEFAULT_CONFIG_PATH


def test_config_from_environment_variable(write_config, monkeypatch):
    path = write_config("[daemon]\nworkers = 7\n")
    monkeypatch.setenv("DESPECKLED_CONFIG", str(path))
    assert load_config().daemon.workers == 7


def test_unknown_environment_variables_are_errors_with_suggestions(write_config, monkeypatch):
    path = write_config(WATCH)
    monkeypatch.setenv("DESPECKLED_DAEMON__WORKRES", "4")
    monkeypatch.setenv("DESPECKLED_DAEMON_WORKERS", "4")
    monkeypatch.setenv("DESPECKLED_LOGLEVEL", "debug")
    monkeypatch.setenv("DESPECKLED_WATCH__0__INPUT", "x")
    monkeypatch.setenv("DESPECKLED_DAEMON__MAX_PAGES", "lots")
    problems = problems_of(path)
    assert problems == [
        "DESPECKLED_DAEMON_WORKERS: unknown setting; did you mean 'DESPECKLED_DAEMON__WORKERS'? (nested keys are joined with '__')",
        "DESPECKLED_DAEMON__WORKRES: unknown setting; did you mean 'DESPECKLED_DAEMON__WORKERS'?",
        "DESPECKLED_LOGLEVEL: unknown setting; did you mean 'DESPECKLED_LOG_LEVEL'?",
        "DESPECKLED_WATCH__0__INPUT: a list can only be set as a whole, as JSON: "
        "DESPECKLED_WATCH='[{\"input\": \"...\", ...}]'",
        "daemon.max_pages (from DESPECKLED_DAEMON__MAX_PAGES): 'lots' is not a valid integer",
    ]


def test_bad_json_in_environment_names_the_variable(write_config, monkeypatch):
    path = write_config("")
    monkeypatch.setenv("DESPECKLED_WATCH", "[{")
    (problem,) = problems_of(path)
    assert problem.startswith("DESPECKLED_WATCH: not valid JSON")


def test_environment_alone_with_missing_default_file(monkeypatch, tmp_path):
    if DEFAULT_CONFIG_PATH.exists():
        pytest.skip("this machine has a real /etc/despeckled/config.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DESPECKLED_DAEMON__WORKERS", "6")
    cfg = load_config(missing_ok=True)
    assert cfg.daemon.workers == 6 and cfg.source_path is None
    assert os.environ["DESPECKLED_DAEMON__WORKERS"] == "6"


def test_output_formats_are_the_writers_formats(write_config):
    from typing import get_args

    from despeckled.io import images
    from despeckled.config import WatchSettings

    (lit, _none) = get_args(WatchSettings.model_fields["output_format"].annotation)
    assert set(get_args(lit)) == set(images.FORMAT_SUFFIX)
    cfg = load_config(write_config(WATCH + 'output_format = ".TIF"\n'))
    assert cfg.resolved_watches()[0].output_format == "tiff"
    (problem,) = problems_of(write_config(WATCH + 'output_format = "webp"\n'))
    assert problem == "watch[0].output_format: 'webp' is not allowed: should be 'png', 'jpeg', 'tiff', 'bmp' or 'pdf'"


def test_single_bracket_watch_table_gets_a_hint(write_config):
    (problem,) = problems_of(write_config('[watch]\ninput = "in"\n'))
    assert problem == "watch: must be a list of tables: write each one as [[watch]] (double brackets)"


# -- despeckled clean's shortcut -------------------------------------------


def _clean_args(*extra):
    from despeckled.cli import build_parser

    return build_parser().parse_args(["clean", "in.png", "--output-dir", "out", *extra])


def test_clean_without_file_or_variables_skips_loading_and_gets_the_same(monkeypatch):
    from despeckled.io import images
    from despeckled.commands.clean import resolve_params
    from despeckled.config_source import defaults_only

    if DEFAULT_CONFIG_PATH.exists():
        pytest.skip("this machine has a real /etc/despeckled/config.toml")
    for key in list(os.environ):
        if key.upper().startswith("DESPECKLED_"):
            monkeypatch.delenv(key)
    assert defaults_only(None)
    cfg = load_config(None, missing_ok=True)  # what the shortcut stands for
    params, limits = resolve_params(_clean_args("--set", "median=true"))
    assert params == CleanParams.model_validate({**cfg.profiles["default"].model_dump(), "median": True})
    assert limits == images.Limits(max_pixels=cfg.daemon.max_pixels, max_pages=cfg.daemon.max_pages)


def test_clean_with_any_despeckled_variable_loads_the_config(monkeypatch):
    from despeckled.commands.clean import resolve_params

    monkeypatch.setenv("DESPECKLED_PROFILES__DEFAULT__MEDIAN", "true")
    monkeypatch.setenv("DESPECKLED_DAEMON__MAX_PAGES", "7")
    params, limits = resolve_params(_clean_args())
    assert params.median is True and limits.max_pages == 7
    monkeypatch.setenv("despeckled_daemon__workerz", "2")  # misspelt: the loader says so
    with pytest.raises(ConfigError):
        resolve_params(_clean_args())
