"""The kiosk's configuration: one TOML file, every key declared once in ``KEYS``.

A technician edits ``kiosk.toml`` in the data folder. Every key has a type, a default and
a description here; unknown sections or keys and wrong types are errors whose message
names the file, the key and what was expected. Files written for older versions of the
software are upgraded in memory (see ``UPGRADES``), never rejected; a file from a newer
version is refused with a request to update the software.

Reading::

    cfg = load_config(path)
    cfg.terminal.language      # "zh_CN"
    cfg.central.timeout_seconds  # 10.0
"""

import difflib
import ipaddress
import json
import logging
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, make_dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


class ConfigError(Exception):
    """A config file the kiosk cannot use.

    Each problem names the file and the key (or the line and column of a syntax error)
    and what to do. All problems found in a file are reported together.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


# --- declaring keys -----------------------------------------------------------------------


class Validator(Protocol):
    """A check on a key's value beyond its type, able to describe itself in words."""

    def __call__(self, value: Any) -> bool:
        """Return whether ``value`` is acceptable."""
        ...

    def describe(self) -> str:
        """Words appended to the type, e.g. " from 15 to 3600"."""
        ...


@dataclass(frozen=True)
class Range:
    """The value must lie between ``lo`` and ``hi`` inclusive (``None`` = open end)."""

    lo: float | None = None
    hi: float | None = None

    def __call__(self, value: Any) -> bool:
        """Return whether ``value`` is inside the range."""
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    def describe(self) -> str:
        """Describe the range in words."""
        if self.lo is not None and self.hi is not None:
            return f" from {_number(self.lo)} to {_number(self.hi)}"
        if self.lo is not None:
            return f" of at least {_number(self.lo)}"
        if self.hi is not None:
            return f" of at most {_number(self.hi)}"
        return ""


@dataclass(frozen=True)
class HttpUrl:
    """The value must be an ``http://`` or ``https://`` address with a host."""

    def __call__(self, value: Any) -> bool:
        """Return whether ``value`` is an http(s) URL with a host."""
        try:
            parts = urlsplit(value)
            return parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            return False

    def describe(self) -> str:
        """Describe the expected form."""
        return " holding an http:// or https:// address"


@dataclass(frozen=True)
class EscposConnectionText:
    """The value must be empty or an ESC/POS connection (``usb:…``, ``serial:…``, ``network:…``)."""

    def __call__(self, value: Any) -> bool:
        """Return whether ``value`` is empty or reads as a connection."""
        if value == "":
            return True
        from printing.errors import PrinterConfigError
        from printing.escpos_connection import EscposConnection

        try:
            EscposConnection.parse(value)
        except PrinterConfigError:
            return False
        return True

    def describe(self) -> str:
        """Describe the expected form."""
        return " like usb:0x0416:0x5011, serial:/dev/ttyUSB0:9600 or network:192.168.1.50:9100"


# The type of a key: str, int, float, bool, Path, or a tuple of the allowed strings.
KeyType = type | tuple[str, ...]


@dataclass(frozen=True)
class Key:
    """One configuration key: where it lives, its type, default and meaning."""

    section: str
    name: str
    type: KeyType
    default: Any  # as written in TOML ("" for an unset path)
    description: str
    validator: Validator | None = None

    @property
    def label(self) -> str:
        """The key as a technician finds it in the file, e.g. ``[central] url``."""
        return f"[{self.section}] {self.name}"

    def expected(self) -> str:
        """Describe an acceptable value, e.g. "an integer from 15 to 3600"."""
        if isinstance(self.type, tuple):
            base = "one of " + ", ".join(_show(choice) for choice in self.type)
        else:
            base = _TYPE_WORDS[self.type]
        return base + (self.validator.describe() if self.validator else "")

    def convert(self, raw: Any, base_dir: Path | None) -> Any:
        """Turn a TOML value into the key's Python value.

        Relative paths resolve against ``base_dir`` (the config file's folder); an empty
        path means "not set" and becomes ``None``.

        Raises:
            ValueError: the value has the wrong type or fails the validator.
        """
        value = self._convert_type(raw, base_dir)
        if self.validator is not None and value is not None and not self.validator(value):
            raise ValueError(raw)
        return value

    def _convert_type(self, raw: Any, base_dir: Path | None) -> Any:
        kind = self.type
        if isinstance(kind, tuple):
            if isinstance(raw, str) and raw in kind:
                return raw
        elif kind is bool:
            if isinstance(raw, bool):
                return raw
        elif kind is int:
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
        elif kind is float:
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return float(raw)
        elif kind is str:
            if isinstance(raw, str):
                return raw
        elif kind is Path:
            if isinstance(raw, str):
                if raw == "":
                    return None
                path = Path(raw).expanduser()
                if base_dir is not None and not path.is_absolute():
                    path = base_dir / path
                return path
        raise ValueError(raw)

    def python_type(self) -> Any:
        """The type of the value on the ``Config`` object."""
        if isinstance(self.type, tuple):
            return str
        if self.type is Path:
            return Path | None
        return self.type


_TYPE_WORDS: dict[type, str] = {
    str: "text in quotes",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    Path: "a path in quotes",
}

_DOC_TYPE_WORDS: dict[type, str] = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "true/false",
    Path: "path (relative to the config file's folder)",
}


KEYS: tuple[Key, ...] = (
    # [terminal]
    Key("terminal", "language", ("zh_CN", "en"), "zh_CN",
        "Language the kiosk starts in (citizens can switch on the home screen)."),
    Key("terminal", "mode", ("kiosk", "agent"), "kiosk",
        "`kiosk`: citizen self-service; `agent`: staff station at a counter."),
    Key("terminal", "idle_timeout_seconds", int, 90,
        "A citizen session is wiped after this much inactivity.", Range(15, 3600)),
    Key("terminal", "large_type", bool, False, "Start in large-type mode."),
    Key("terminal", "voice_guidance", bool, False,
        "Read each screen's instruction and validation messages aloud from the start of every session "
        "(citizens can switch it with the 朗读 button)."),
    Key("terminal", "voice_engine", str, "",
        "QtTextToSpeech engine for voice guidance (`speechd` on Linux, `sapi`/`winrt` on Windows); "
        "empty = the first available."),
    # [hall]
    Key("hall", "name_zh", str, "市民服务中心", "Name of the service hall in Chinese."),
    Key("hall", "name_en", str, "Citizen Service Centre", "Name of the service hall in English."),
    Key("hall", "site_code", str, "", "The site code from enrolment."),
    Key("hall", "checkin_early_minutes", int, 60,
        "How many minutes before an appointment's slot its QR code is accepted for check-in "
        "(after the slot, the token's own expiry applies).", Range(0, 720)),
    # [central]
    Key("central", "url", str, "http://127.0.0.1:8700",
        "Address of the central platform.", HttpUrl()),
    Key("central", "allow_insecure_http", bool, False,
        "Allow plain http:// to a host other than loopback (test halls only)."),
    Key("central", "ca_bundle", Path, "",
        "PEM file of a pinned CA for the central platform; empty = system CAs."),
    Key("central", "timeout_seconds", float, 10.0,
        "Timeout of one request to the central platform.", Range(1, 300)),
    Key("central", "sync_interval_seconds", int, 30,
        "Pause between sync rounds (push outbox, pull status and catalog).", Range(5, 86400)),
    # [catalog]
    Key("catalog", "path", Path, "",
        "Folder of service definitions to use before the first signed catalog arrives; "
        "empty = the bundled catalog."),
    # [printing]
    Key("printing", "backend", ("pdf", "cups", "escpos"), "pdf",
        "Where receipts and tickets go: `pdf` files in a folder, `cups` the system printer (`lp`), "
        "`escpos` a thermal printer."),
    Key("printing", "paper", ("80mm", "58mm", "a4"), "80mm",
        "Paper in the printer: 80 mm or 58 mm thermal roll, or A4 sheets (pdf and cups only)."),
    Key("printing", "pdf_folder", Path, "",
        "Folder the `pdf` backend writes into; empty = `receipts` in the data folder."),
    Key("printing", "cups_printer", str, "",
        "CUPS queue name for the `cups` backend (see `lpstat -p`); empty = the system default printer."),
    Key("printing", "escpos_connection", str, "",
        "Thermal printer for the `escpos` backend: `usb:VENDOR:PRODUCT` (hex, e.g. `usb:0x0416:0x5011`), "
        "`serial:DEVICE:BAUD` (e.g. `serial:/dev/ttyUSB0:9600`) or `network:HOST:PORT` "
        "(e.g. `network:192.168.1.50:9100`).", EscposConnectionText()),
    Key("printing", "timeout_seconds", float, 10.0,
        "How long to wait for a printer to take a job or answer a status query.", Range(1, 120)),
    Key("printing", "automatic_retries", int, 3,
        "How often a receipt or ticket that failed to print is printed again by itself, once the printer "
        "is back: after 30 s, 2 min and 10 min. After the last one, or with 0, it waits for staff to reprint "
        "it at the agent station. Halls whose citizens do not wait at the printer may prefer 0 or 1, so no "
        "receipt comes out long after its citizen has left.", Range(0, 3)),
    # [staff]
    Key("staff", "max_failed_signins", int, 5,
        "Failed staff sign-ins in a row after which the account is locked out.", Range(1, 20)),
    Key("staff", "lockout_minutes", int, 15,
        "How long a locked-out staff account is refused (a supervisor can reset its PIN sooner).",
        Range(1, 1440)),
    Key("staff", "idle_signout_minutes", int, 10,
        "The agent station signs staff out after this many minutes without a key press or click.",
        Range(1, 480)),
    # [devices]
    Key("devices", "idcard_port", str, "",
        "Serial port of the resident ID card reader (e.g. `/dev/ttyUSB0`, `COM3`); empty = no reader."),
    Key("devices", "idcard_baudrate", int, 115200,
        "Baud rate of the ID card reader (most readers: 115200).", Range(1200, 921600)),
    Key("devices", "scanner_port", str, "",
        "Serial port of a barcode scanner in serial (USB CDC) mode; empty = none "
        "(keyboard-wedge scanners need no setting)."),
    Key("devices", "scanner_baudrate", int, 9600,
        "Baud rate of the serial barcode scanner.", Range(1200, 921600)),
    Key("devices", "camera", bool, False,
        "Whether this kiosk has a document/QR camera (`kiosk doctor` then checks that one is present)."),
    Key("devices", "decoder", ("zxing", "zbar"), "zxing",
        "Barcode decoder for camera frames and image files: `zxing` (zxing-cpp, faster) or `zbar` (pyzbar)."),
    # [store]
    Key("store", "min_free_disk_mb", int, 100,
        "New submissions are refused (the citizen is asked to go to the help desk) while the data "
        "folder's disk has less free space than this (MB), so a full disk never interrupts one; "
        "queued submissions keep syncing. 0 turns the check off. Keep it below "
        "`[doctor] min_free_disk_mb`, so that `kiosk doctor` warns first.", Range(0, 1_000_000)),
    # [doctor]
    Key("doctor", "min_free_disk_mb", int, 500,
        "`kiosk doctor` fails when the data folder's disk has less free space than this (MB), "
        "and warns below twice this.", Range(10, 1_000_000)),
    Key("doctor", "max_clock_skew_seconds", int, 120,
        "`kiosk doctor` fails when this terminal's clock differs from the central platform's by more "
        "(receipts, appointment tokens and logs rely on the time).", Range(1, 86400)),
    # [logging]
    Key("logging", "level", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO",
        "Least severe message written to the log file."),
    Key("logging", "max_bytes", int, 5_000_000,
        "Size at which the log file is rotated.", Range(10_000, 1_000_000_000)),
    Key("logging", "backup_count", int, 5,
        "How many rotated log files are kept.", Range(1, 100)),
)

SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(key.section for key in KEYS))
_KEY_BY_LABEL: dict[tuple[str, str], Key] = {(key.section, key.name): key for key in KEYS}


def _section_class(section: str) -> type:
    """Build the frozen dataclass holding one section's values, e.g. ``CentralConfig``."""
    keys = [key for key in KEYS if key.section == section]
    return make_dataclass(
        f"{section.capitalize()}Config",
        [(key.name, key.python_type()) for key in keys],
        frozen=True,
        namespace={"__doc__": f"Values of the [{section}] section of kiosk.toml."},
    )


SECTION_CLASSES: dict[str, type] = {section: _section_class(section) for section in SECTIONS}


@dataclass(frozen=True)
class Config:
    """The whole configuration; each section is a frozen dataclass built from ``KEYS``."""

    terminal: Any
    hall: Any
    central: Any
    catalog: Any
    printing: Any
    staff: Any
    devices: Any
    store: Any
    doctor: Any
    logging: Any
    config_version: int
    source: Path | None = None  # the file read, or None when all defaults


# --- upgrades -----------------------------------------------------------------------------


def _upgrade_0_to_1(data: dict[str, Any], source: Path) -> dict[str, Any]:
    """Version 0 called [central] url ``server``."""
    central = data.get("central")
    if isinstance(central, dict) and "server" in central:
        if "url" in central:
            raise ConfigError(
                f"{source}: [central] server: old name of url, and url is set too. "
                "Fix: delete the server line."
            )
        central["url"] = central.pop("server")
        logger.warning(
            "%s: [central] server is the old name of url; reading it as url. "
            "Fix: rename it to url and put config_version = 1 at the top of the file.",
            source,
        )
    return data


# UPGRADES[n] turns a version-n file (as parsed TOML) into version n+1.
UPGRADES: tuple[Callable[[dict[str, Any], Path], dict[str, Any]], ...] = (_upgrade_0_to_1,)
CONFIG_VERSION = len(UPGRADES)


def _upgrade(data: dict[str, Any], source: Path) -> dict[str, Any]:
    """Bring parsed TOML (without its config_version) up to ``CONFIG_VERSION``."""
    version = data.pop("config_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ConfigError(
            f"{source}: config_version: expected an integer from 0 to {CONFIG_VERSION}, "
            f"got {_show(version)}"
        )
    if version > CONFIG_VERSION:
        raise ConfigError(
            f"{source}: config_version: the file is version {version}, but this software "
            f"understands versions up to {CONFIG_VERSION}. Fix: update the Tongban software "
            "on this terminal, or use a config file written for this version."
        )
    for step in range(version, CONFIG_VERSION):
        data = UPGRADES[step](data, source)
    if version < CONFIG_VERSION:
        logger.info("%s: upgraded in memory from config_version %d to %d",
                    source, version, CONFIG_VERSION)
    return data


# --- loading ------------------------------------------------------------------------------


def default_config() -> Config:
    """Return the configuration with every key at its default."""
    return _assemble({}, source=None)


def load_config(path: Path) -> Config:
    """Read, upgrade and check the config file at ``path``.

    A missing file means all defaults. Relative paths in the file resolve against the
    file's folder.

    Raises:
        ConfigError: the file cannot be read, is not valid TOML, has unknown sections or
            keys, wrong types or values, or comes from a newer version of the software.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        logger.info("No config file at %s; using defaults", path)
        return default_config()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the config file ({exc.strerror or exc}). "
            "Fix: make it a readable file, or point KIOSK_CONFIG at another one."
        ) from exc
    try:
        # utf-8-sig: editors on Windows may put a byte-order mark first.
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}). Fix: save it as UTF-8."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc

    data = _upgrade(data, path)
    values = _check(data, path)
    config = _assemble(values, source=path)
    logger.info("Loaded config %s", path)
    return config


def _check(data: dict[str, Any], source: Path) -> dict[str, dict[str, Any]]:
    """Convert every value in ``data``; raise one ConfigError listing all problems."""
    base_dir = source.absolute().parent
    problems: list[str] = []
    values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    for section, table in data.items():
        if section not in SECTIONS:
            problems.append(_unknown_top_level(source, section, table))
            continue
        if not isinstance(table, dict):
            problems.append(
                f"{source}: [{section}]: expected a section (a [{section}] line followed "
                f"by its keys), got {_show(table)}"
            )
            continue
        for name, raw in table.items():
            key = _KEY_BY_LABEL.get((section, name))
            if key is None:
                problems.append(f"{source}: [{section}] {name}: unknown key"
                                f"{_suggest_key(section, name)}")
                continue
            try:
                values[section][name] = key.convert(raw, base_dir)
            except ValueError:
                problems.append(f"{source}: {key.label}: expected {key.expected()}, "
                                f"got {_show(raw)}")
    if not problems:
        problems.extend(_check_central_url(values["central"], source))
    if problems:
        raise ConfigError(problems)
    return values


def _check_central_url(central: dict[str, Any], source: Path) -> list[str]:
    """Refuse plain http to a non-loopback host unless the technician allowed it."""
    url = central.get("url", _KEY_BY_LABEL["central", "url"].default)
    allowed = central.get("allow_insecure_http", False)
    parts = urlsplit(url)
    if parts.scheme != "http" or allowed or _is_loopback(parts.hostname or ""):
        return []
    return [
        f"{source}: [central] url: plain http:// to {parts.hostname} would send data "
        "unencrypted. Fix: use https://, or set [central] allow_insecure_http = true "
        "(test halls only)."
    ]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _assemble(values: dict[str, dict[str, Any]], source: Path | None) -> Config:
    """Fill in defaults and build the Config object."""
    sections = {}
    for section, cls in SECTION_CLASSES.items():
        given = values.get(section, {})
        fields = {
            key.name: given[key.name] if key.name in given else key.convert(key.default, None)
            for key in KEYS
            if key.section == section
        }
        sections[section] = cls(**fields)
    return Config(**sections, config_version=CONFIG_VERSION, source=source)


# --- messages -----------------------------------------------------------------------------


def _unknown_top_level(source: Path, name: str, value: Any) -> str:
    """Explain an unknown section, or a key written above any section."""
    if isinstance(value, dict):
        hint = _did_you_mean(name, SECTIONS, "[{}]") or " (known sections: " + ", ".join(
            f"[{section}]" for section in SECTIONS
        ) + ")"
        return f"{source}: [{name}]: unknown section{hint}"
    owners = [key for key in KEYS if key.name == name]
    if owners:
        hint = f" (did you mean {owners[0].label}? put it under [{owners[0].section}])"
    else:
        hint = _did_you_mean(name, ("config_version",))
    return f"{source}: {name}: unknown key at the top of the file{hint}"


def _suggest_key(section: str, name: str) -> str:
    """Suggest a close key in the same section, or the same key in its right section."""
    own = [key.name for key in KEYS if key.section == section]
    close = difflib.get_close_matches(name, own, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]}?)"
    elsewhere = [key for key in KEYS if key.name == name]
    if elsewhere:
        return f" (it belongs in [{elsewhere[0].section}])"
    return f" (known keys: {', '.join(own)})"


def _did_you_mean(name: str, choices: Sequence[str], form: str = "{}") -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean {form.format(close[0])}?)" if close else ""


def _show(value: Any) -> str:
    """Render a TOML value the way a technician would have typed it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a section/table"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- documentation ------------------------------------------------------------------------


def render_config_docs() -> str:
    """Return a Markdown table of every key: section, key, type, default, description."""
    lines = [
        "| section | key | type | default | description |",
        "|---|---|---|---|---|",
        f"| (top) | `config_version` | integer | `{CONFIG_VERSION}` | Version of the file's "
        "layout; older files are upgraded when read, newer ones are refused. |",
    ]
    for key in KEYS:
        if isinstance(key.type, tuple):
            kind = "one of " + ", ".join(f"`{choice}`" for choice in key.type)
        else:
            kind = _DOC_TYPE_WORDS[key.type]
        if key.validator is not None:
            kind += key.validator.describe()
        default = _show(key.default)
        description = key.description.replace("|", "\\|")
        lines.append(
            f"| `[{key.section}]` | `{key.name}` | {kind} | `{default}` | {description} |"
        )
    return "\n".join(lines) + "\n"
