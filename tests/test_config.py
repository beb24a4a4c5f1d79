"""The config file as a technician meets it: defaults, clear errors, upgrades."""

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import (
    CONFIG_VERSION,
    KEYS,
    SECTIONS,
    UPGRADES,
    Config,
    ConfigError,
    default_config,
    load_config,
    render_config_docs,
)


def write(folder: Path, text: str, name: str = "kiosk.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


# --- defaults -----------------------------------------------------------------------------


def test_missing_file_gives_all_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "kiosk.toml")

    assert cfg == default_config()
    assert cfg.terminal.language == "zh_CN"
    assert cfg.terminal.mode == "kiosk"
    assert cfg.terminal.idle_timeout_seconds == 90
    assert cfg.terminal.large_type is False
    assert cfg.hall.name_zh == "市民服务中心"
    assert cfg.central.url == "http://127.0.0.1:8700"
    assert cfg.central.timeout_seconds == 10.0
    assert cfg.central.ca_bundle is None
    assert cfg.catalog.path is None
    assert cfg.logging.level == "INFO"
    assert cfg.config_version == CONFIG_VERSION
    assert cfg.source is None


def test_empty_file_gives_all_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""))

    assert cfg.terminal == default_config().terminal
    assert cfg.source == tmp_path / "kiosk.toml"


def test_every_default_passes_its_own_check() -> None:
    for key in KEYS:
        key.convert(key.default, None)  # raises if a default is out of range or mistyped


def test_config_has_one_attribute_per_declared_section() -> None:
    cfg = default_config()
    for section in SECTIONS:
        for key in (k for k in KEYS if k.section == section):
            assert hasattr(getattr(cfg, section), key.name)
    assert set(SECTIONS) <= set(Config.__dataclass_fields__)


def test_config_is_read_only() -> None:
    cfg = default_config()
    with pytest.raises(AttributeError):
        cfg.terminal.language = "en"


def test_values_from_the_file_override_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        config_version = 1
        [terminal]
        language = "en"
        mode = "agent"
        idle_timeout_seconds = 120
        large_type = true
        [hall]
        name_zh = "朝阳区政务服务中心"
        [central]
        url = "https://central.example.gov.cn"
        timeout_seconds = 5
        [logging]
        level = "DEBUG"
        """,
    )

    cfg = load_config(path)

    assert cfg.terminal.language == "en"
    assert cfg.terminal.mode == "agent"
    assert cfg.terminal.idle_timeout_seconds == 120
    assert cfg.terminal.large_type is True
    assert cfg.hall.name_zh == "朝阳区政务服务中心"
    assert cfg.hall.name_en == "Citizen Service Centre"
    assert cfg.central.url == "https://central.example.gov.cn"
    assert cfg.central.timeout_seconds == 5.0
    assert isinstance(cfg.central.timeout_seconds, float)
    assert cfg.logging.level == "DEBUG"


def test_file_saved_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes('\ufeff[terminal]\nlanguage = "en"\n'.encode())

    assert load_config(path).terminal.language == "en"


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    path = write(
        folder,
        '[central]\nca_bundle = "certs/hall-ca.pem"\n[catalog]\npath = "/opt/catalog"\n',
    )

    cfg = load_config(path)

    assert cfg.central.ca_bundle == folder / "certs" / "hall-ca.pem"
    assert cfg.catalog.path == Path("/opt/catalog")


# --- errors name the file and the key -----------------------------------------------------


def test_unknown_key_is_named_with_file_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "[central]\ntimeut_seconds = 5\n")

    message = load_error(path)

    assert "kiosk.toml" in message
    assert "[central] timeut_seconds: unknown key (did you mean timeout_seconds?)" in message


def test_key_in_the_wrong_section_says_where_it_belongs(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, '[terminal]\nsite_code = "A1"\n'))

    assert "[terminal] site_code: unknown key (it belongs in [hall])" in message


def test_unknown_section_is_named_with_suggestion(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, '[termnal]\nlanguage = "en"\n'))

    assert "kiosk.toml" in message
    assert "[termnal]: unknown section (did you mean [terminal]?)" in message


def test_key_above_all_sections_suggests_its_section(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, 'language = "en"\n'))

    assert "language: unknown key at the top of the file" in message
    assert "[terminal] language" in message


def test_wrong_type_is_named_with_what_was_expected(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, '[terminal]\nidle_timeout_seconds = "abc"\n'))

    assert "kiosk.toml" in message
    assert (
        '[terminal] idle_timeout_seconds: expected an integer from 15 to 3600, got "abc"'
        in message
    )


def test_true_is_not_accepted_as_a_number(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "[central]\ntimeout_seconds = true\n"))

    assert "[central] timeout_seconds: expected a number from 1 to 300, got true" in message


def test_value_outside_the_allowed_strings_lists_them(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, '[terminal]\nlanguage = "fr"\n'))

    assert '[terminal] language: expected one of "zh_CN", "en", got "fr"' in message


def test_all_problems_in_a_file_are_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, '[terminal]\nlanguage = "fr"\nmode = 3\n[hall]\nname = "x"\n')

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert len(info.value.problems) == 3
    assert all(str(path) in problem for problem in info.value.problems)


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, '[terminal]\nlanguage = "en\n'))

    assert "kiosk.toml" in message
    assert "not valid TOML" in message
    assert "line 2" in message
    assert "column" in message


def test_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes('[hall]\nname_zh = "市民中心"\n'.encode("gbk"))

    message = load_error(path)

    assert "kiosk.toml" in message
    assert "UTF-8" in message


def test_config_path_that_is_a_folder_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "kiosk.toml"
    folder.mkdir()

    message = load_error(folder)

    assert "kiosk.toml: cannot read the config file" in message


def test_plain_http_to_a_remote_host_needs_explicit_permission(tmp_path: Path) -> None:
    remote = '[central]\nurl = "http://10.1.2.3:8700"\n'
    message = load_error(write(tmp_path, remote))
    assert "[central] url: plain http:// to 10.1.2.3" in message
    assert "allow_insecure_http" in message

    allowed = load_config(write(tmp_path, remote + "allow_insecure_http = true\n"))
    assert allowed.central.url == "http://10.1.2.3:8700"


@pytest.mark.parametrize("url", ["http://localhost:8700", "http://127.0.0.1", "http://[::1]:80"])
def test_plain_http_to_loopback_is_fine(tmp_path: Path, url: str) -> None:
    assert load_config(write(tmp_path, f'[central]\nurl = "{url}"\n')).central.url == url


def test_url_that_is_not_http_is_refused(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, '[central]\nurl = "central.example.gov.cn"\n'))

    assert "[central] url: expected text in quotes holding an http:// or https://" in message


# --- upgrades -----------------------------------------------------------------------------


def test_version_0_server_key_is_read_as_url_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, '[central]\nserver = "https://central.example.gov.cn"\n')

    with caplog.at_level(logging.WARNING, logger="kiosk.config"):
        cfg = load_config(path)

    assert cfg.central.url == "https://central.example.gov.cn"
    assert cfg.config_version == CONFIG_VERSION
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(path) in w and "[central] server" in w for w in warnings)


def test_server_key_is_unknown_in_a_current_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'config_version = 1\n[central]\nserver = "https://x.gov.cn"\n')

    assert "[central] server: unknown key" in load_error(path)


def test_version_0_file_with_both_server_and_url_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[central]\nserver = "https://a.gov.cn"\nurl = "https://b.gov.cn"\n')

    assert "[central] server: old name of url, and url is set too" in load_error(path)


def test_newer_config_version_asks_for_a_software_update(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, f"config_version = {CONFIG_VERSION + 1}\n"))

    assert "kiosk.toml" in message
    assert "config_version" in message
    assert "update the Tongban software" in message


def test_config_version_must_be_an_integer(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, 'config_version = "1"\n'))

    assert 'config_version: expected an integer from 0 to 1, got "1"' in message


def test_there_is_one_upgrade_per_older_version() -> None:
    assert len(UPGRADES) == CONFIG_VERSION


# --- property: the idle timeout's range is enforced ---------------------------------------


# TOML integers are 64-bit; larger literals are a syntax error, tested elsewhere.
_TOML_INT_MIN, _TOML_INT_MAX = -(2**63), 2**63 - 1


@given(
    seconds=st.one_of(
        st.integers(min_value=_TOML_INT_MIN, max_value=14),
        st.integers(min_value=3601, max_value=_TOML_INT_MAX),
    )
)
def test_idle_timeout_outside_range_is_rejected_naming_the_key(
    tmp_path_factory: pytest.TempPathFactory, seconds: int
) -> None:
    path = write(tmp_path_factory.mktemp("cfg"), f"[terminal]\nidle_timeout_seconds = {seconds}\n")

    message = load_error(path)

    assert "[terminal] idle_timeout_seconds: expected an integer from 15 to 3600" in message
    assert f"got {seconds}" in message


@given(seconds=st.integers(min_value=15, max_value=3600))
def test_idle_timeout_inside_range_is_used(
    tmp_path_factory: pytest.TempPathFactory, seconds: int
) -> None:
    path = write(tmp_path_factory.mktemp("cfg"), f"[terminal]\nidle_timeout_seconds = {seconds}\n")

    assert load_config(path).terminal.idle_timeout_seconds == seconds


@given(name=st.from_regex(r"[a-z][a-z0-9_]{0,24}", fullmatch=True))
def test_any_undeclared_key_is_rejected_by_name(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    if any(k.section == "hall" and k.name == name for k in KEYS):
        return
    path = write(tmp_path_factory.mktemp("cfg"), f"[hall]\n{name} = 1\n")

    assert f"[hall] {name}: unknown key" in load_error(path)


# --- docs ---------------------------------------------------------------------------------


def test_docs_table_lists_every_key_with_default_and_description() -> None:
    docs = render_config_docs()

    assert docs.startswith("| section | key | type | default | description |")
    for key in KEYS:
        row = next(line for line in docs.splitlines() if f"`{key.name}`" in line
                   and f"`[{key.section}]`" in line)
        assert key.description.split("|")[0] in row
    assert "`config_version`" in docs
    assert "integer from 15 to 3600" in docs
