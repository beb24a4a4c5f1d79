"""Where the data folder and config file are: flag, environment, system default."""

import os
from pathlib import Path

import platformdirs
import pytest

from kiosk.errors import SetupError
from kiosk.paths import resolve_config_path, resolve_data_dir


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test may see the real KIOSK_* variables or touch the real home folder."""
    monkeypatch.delenv("KIOSK_DATA_DIR", raising=False)
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home


def test_cli_flag_wins_over_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "from-env"))

    data_dir = resolve_data_dir(str(tmp_path / "from-flag"))

    assert data_dir == tmp_path / "from-flag"
    assert data_dir.is_dir()
    assert not (tmp_path / "from-env").exists()


def test_environment_is_used_without_flag(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "from-env" / "nested"))

    data_dir = resolve_data_dir(None)

    assert data_dir == tmp_path / "from-env" / "nested"
    assert data_dir.is_dir()


def test_empty_environment_value_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch, isolated_environment: Path
) -> None:
    monkeypatch.setenv("KIOSK_DATA_DIR", "")

    assert resolve_data_dir(None).is_relative_to(isolated_environment)


def test_system_default_without_flag_or_environment(isolated_environment: Path) -> None:
    data_dir = resolve_data_dir(None)

    assert data_dir == Path(platformdirs.user_data_dir("tongban", appauthor=False))
    assert data_dir.is_relative_to(isolated_environment)
    assert data_dir.is_dir()


def test_relative_flag_becomes_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)

    data_dir = resolve_data_dir("data")

    assert data_dir.is_absolute()
    assert data_dir == tmp_path / "data"


def test_file_in_the_way_is_named_with_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "kiosk-data"
    blocker.write_text("not a folder")

    with pytest.raises(SetupError) as info:
        resolve_data_dir(str(blocker))

    message = str(info.value)
    assert str(blocker) in message
    assert "--data-dir" in message
    assert "is a file" in message


def test_file_in_the_way_of_a_parent_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "kiosk-data"
    blocker.write_text("not a folder")

    with pytest.raises(SetupError, match="is a file") as info:
        resolve_data_dir(str(blocker / "sub"))

    assert str(blocker) in str(info.value)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root can write anywhere; see the simulated test below",
)
def test_folder_without_permission_is_named(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(SetupError, match="write access") as info:
            resolve_data_dir(str(locked / "data"))
    finally:
        locked.chmod(0o700)
    assert str(locked / "data") in str(info.value)


def test_unwritable_folder_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("kiosk.paths.tempfile.TemporaryFile", refuse)

    with pytest.raises(SetupError) as info:
        resolve_data_dir(str(tmp_path / "data"))

    message = str(info.value)
    assert str(tmp_path / "data") in message
    assert "Permission denied" in message
    assert "KIOSK_DATA_DIR" in message


def test_config_defaults_to_kiosk_toml_in_data_dir(tmp_path: Path) -> None:
    assert resolve_config_path(tmp_path) == tmp_path / "kiosk.toml"


def test_config_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KIOSK_CONFIG", str(tmp_path / "etc" / "hall.toml"))

    assert resolve_config_path(tmp_path / "data") == tmp_path / "etc" / "hall.toml"
