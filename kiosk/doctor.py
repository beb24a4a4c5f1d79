"""The terminal's self-test: every check ``kiosk doctor`` runs, in plain Python.

Each check returns a :class:`Check`: a name, ``pass`` / ``warn`` / ``fail``, what was found
and, when it is not a pass, what a technician does about it (naming the file, the config key
or the device). The checks never raise: a check that breaks is itself a ``fail`` naming the
error, so the doctor always finishes and always says something useful, also on a fresh
machine with no config file, no database and no devices.

The doctor changes nothing it does not have to: it reads the config, reads the database's
schema version before opening it (a database from a newer Tongban is never opened), and
only opens the store (which upgrades an older schema, as the kiosk's own start would) when
the file is there. It writes and removes one probe file to test the data folder.
"""

from __future__ import annotations

import enum
import logging
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from kiosk.config import Config, ConfigError, default_config, load_config
from kiosk.errors import SetupError

log = logging.getLogger(__name__)

DOCTOR_TIMEOUT_SECONDS = 5.0  # per request to the central platform: a self-test must not hang


class Status(enum.StrEnum):
    """The outcome of one check."""

    PASS = "pass"
    WARN = "warn"  # works, but needs attention soon (or could not be checked here)
    FAIL = "fail"  # the kiosk cannot work properly until this is fixed


@dataclass(frozen=True)
class Check:
    """One check's result. ``fix`` is empty for a pass."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        """``{"name", "status", "detail", "fix"}`` for ``kiosk doctor --json``."""
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "fix": self.fix}


def passed(name: str, detail: str) -> Check:
    """A check that passed."""
    return Check(name, Status.PASS, detail)


def warned(name: str, detail: str, fix: str) -> Check:
    """A check that found something to look at."""
    return Check(name, Status.WARN, detail, fix)


def failed(name: str, detail: str, fix: str) -> Check:
    """A check that found something broken."""
    return Check(name, Status.FAIL, detail, fix)


def refuse_newer_database(data_dir: Path) -> None:
    """Refuse to start on a database written by a newer Tongban (before anything opens it).

    Raises:
        SetupError: naming the file, its schema version, ours, and the fix.
    """
    from sync.migrations import NewerDatabaseError
    from sync.migrations import refuse_newer_database as refuse
    from sync.store import database_path

    try:
        refuse(database_path(data_dir))
    except NewerDatabaseError as exc:
        raise SetupError(str(exc)) from exc


# --- running ----------------------------------------------------------------------------------


@dataclass
class _Context:
    """What the checks share: the folders, the config and (once opened) the store."""

    data_dir: Path
    config_path: Path
    config: Config
    store: Any = None  # sync.store.Store once the database check opened it


def run_checks(data_dir: Path, config_path: Path) -> list[Check]:
    """Run every check in order and return their results (never raises)."""
    results, ctx = check_config(data_dir, config_path)
    try:
        for check in (check_data_folder, check_database, check_enrolment, check_catalog):
            results.extend(_guarded(check.__name__, lambda check=check: [check(ctx)]))
        for check_many in (check_devices, check_printers):
            results.extend(_guarded(check_many.__name__, lambda check_many=check_many: check_many(ctx)))
        results.extend(_guarded("central", lambda: check_central(ctx)))
        results.extend(_guarded("disk space", lambda: [check_disk(ctx)]))
        results.extend(_guarded("fonts", lambda: check_fonts(ctx)))
    finally:
        if ctx.store is not None:
            ctx.store.close()
    return results


def _guarded(name: str, run: Callable[[], list[Check]]) -> Iterator[Check]:
    """Run a check; an unexpected error becomes a ``fail`` (and the traceback goes to the log)."""
    try:
        yield from run()
    except Exception as exc:
        log.exception("doctor: the %s check broke", name)
        yield failed(
            name.removeprefix("check_").replace("_", " "),
            f"the check itself failed: {type(exc).__name__}: {exc}",
            "see kiosk.log in the data folder's logs/ and report it with the log attached",
        )


def exit_status(results: list[Check]) -> int:
    """0 when nothing failed, 1 otherwise."""
    return 1 if any(r.status is Status.FAIL for r in results) else 0


# --- config and folders -------------------------------------------------------------------------


def check_config(data_dir: Path, config_path: Path) -> tuple[list[Check], _Context]:
    """The config file: there (or defaults in force), parses, every key valid."""
    if not config_path.exists():
        ctx = _Context(data_dir, config_path, default_config())
        return [warned(
            "config",
            f"no config file at {config_path}; the defaults are in force (central platform "
            f"{ctx.config.central.url}, PDF receipts, no ID card reader)",
            f"create {config_path} (see docs/config.md and deploy/kiosk.toml.example), "
            "or point KIOSK_CONFIG at it",
        )], ctx
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        ctx = _Context(data_dir, config_path, default_config())
        return [failed(
            "config",
            f"{config_path} cannot be used: " + "; ".join(exc.problems),
            f"edit {config_path} as each problem says (keys and types: docs/config.md); "
            "until then every other check uses the defaults",
        )], ctx
    return [passed("config", f"{config_path} read (every key valid)")], _Context(data_dir, config_path, config)


def check_data_folder(ctx: _Context) -> Check:
    """The data folder exists and this user can create, write and remove files in it."""
    probe = ctx.data_dir / f".doctor-probe-{uuid.uuid4().hex}"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"tongban doctor\n")
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()
    except OSError as exc:
        user = _user_name()
        return failed(
            "data folder",
            f"cannot write in {ctx.data_dir}: {exc.strerror or exc}",
            f"give user {user} write access (chown -R {user} {ctx.data_dir}), or choose another "
            "folder with --data-dir / KIOSK_DATA_DIR",
        )
    return passed("data folder", f"{ctx.data_dir} is writable")


def _user_name() -> str:
    try:
        import getpass

        return getpass.getuser()
    except (ImportError, KeyError, OSError):
        return "the kiosk's user"


# --- database, enrolment, catalog ---------------------------------------------------------------


def check_database(ctx: _Context) -> Check:
    """The database: not from a newer Tongban, opens, passes SQLite's integrity check."""
    from sync.migrations import LATEST_VERSION, schema_version_of
    from sync.store import StoreError, database_path, open_store

    path = database_path(ctx.data_dir)
    try:
        version = schema_version_of(path)
    except StoreError as exc:
        return failed("database", str(exc), _MOVE_ASIDE.format(path=path))
    if version is None:
        return warned(
            "database",
            f"no database yet at {path}",
            "nothing to do on a new terminal: it is created by `kiosk enroll` or the kiosk's first start",
        )
    if version > LATEST_VERSION:
        return failed(
            "database",
            f"{path} has schema version {version}, written by a newer Tongban (this one knows up to "
            f"{LATEST_VERSION}); the kiosk refuses to start on it",
            "install the Tongban bundle that wrote it (or a newer one), or restore the database backup "
            "made before the update (docs/deploy.md, Updates); never delete it",
        )
    try:
        store = open_store(path)
    except StoreError as exc:
        return failed("database", str(exc), _MOVE_ASIDE.format(path=path))
    ctx.store = store
    problems = store.integrity_check()
    if problems != ["ok"]:
        return failed(
            "database",
            f"{path} fails SQLite's integrity check: " + "; ".join(problems[:5]),
            _MOVE_ASIDE.format(path=path),
        )
    counts = store.counts()
    upgraded = f", upgraded from {version}" if version < LATEST_VERSION else ""
    return passed(
        "database",
        f"{path}: schema version {LATEST_VERSION}{upgraded}, integrity ok; "
        f"{counts['pending'] + counts['sending']} waiting to sync, {counts['dead']} dead letters",
    )


_MOVE_ASIDE = (
    "stop the kiosk, copy {path} (and its -wal file) somewhere safe, move it aside and restart: "
    "a new empty database is made; the copy holds the unsent queue for a developer to recover"
)


def check_enrolment(ctx: _Context) -> Check:
    """Enrolled at a central platform, with a usable sealing key and catalog signing key."""
    if ctx.store is None:
        return failed(
            "enrolment",
            "not enrolled (there is no database yet, see the database check)",
            "enrol: `kiosk enroll --from-qr IMAGE` with the QR from `kiosk-central enroll-code create --qr`, "
            "or `kiosk enroll --central URL --code CODE`",
        )
    enrolment = ctx.store.enrolment()
    if enrolment is None:
        return failed(
            "enrolment",
            "this terminal is not enrolled: it refuses real submissions and cannot sync",
            "enrol: `kiosk enroll --from-qr IMAGE` with the QR from `kiosk-central enroll-code create --qr`, "
            "or `kiosk enroll --central URL --code CODE`",
        )
    bad = [
        name
        for name, key in (("sealing key", enrolment.sealing_public_key),
                          ("catalog signing key", enrolment.catalog_signing_key))
        if len(key) != 32
    ]
    if bad:
        return failed(
            "enrolment",
            f"enrolled as device {enrolment.device_code}, but the stored {' and '.join(bad)} is unusable",
            "enrol again: `kiosk enroll --force --from-qr IMAGE` (or --central URL --code CODE)",
        )
    return passed(
        "enrolment",
        f"device {enrolment.device_code} at site {enrolment.site_code}, central platform "
        f"{enrolment.central_url}; sealing key and catalog signing key present",
    )


def check_catalog(ctx: _Context) -> Check:
    """The catalog in force loads; a signed one still matches the version it was verified as."""
    from forms import load_catalog
    from kiosk.catalog_source import SYNCED_CATALOG_FOLDER, active_catalog_dir
    from sync.catalog_update import current_catalog

    folder = active_catalog_dir(ctx.data_dir, ctx.config)
    synced_root = (ctx.data_dir / SYNCED_CATALOG_FOLDER).parent
    try:
        catalog = load_catalog(folder)
    except Exception as exc:  # forms.DefinitionInvalid or an unreadable folder
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return failed(
            "catalog",
            f"the catalog at {folder} does not load: {first}",
            "run `kiosk sync --once` to fetch the signed catalog again"
            if folder.is_relative_to(synced_root)
            else "correct [catalog] path in the config, or empty it to use the bundled catalog",
        )
    if not folder.is_relative_to(synced_root):
        source = "[catalog] path" if ctx.config.catalog.path else "the catalog bundled with this software"
        return warned(
            "catalog",
            f"{len(catalog.services)} services from {source} ({folder}); no signed catalog from the "
            "central platform yet",
            "after enrolling, run `kiosk sync --once`: the platform's signed catalog replaces it",
        )
    applied = current_catalog(synced_root)
    if applied is None:
        return failed(
            "catalog",
            f"{folder} has no readable bundle.json, so its signature cannot be vouched for",
            "run `kiosk sync --once` to fetch the signed catalog again",
        )
    actual = _content_version(catalog)
    if actual != applied.version:
        return failed(
            "catalog",
            f"the files in {applied.path} changed after their signature was verified "
            f"(content {actual[:12]}, signed {applied.version[:12]})",
            f"delete {synced_root} and run `kiosk sync --once` to fetch the signed catalog again",
        )
    return passed(
        "catalog",
        f"signed catalog {applied.version[:12]} ({applied.services} services, published "
        f"{applied.created_at:%Y-%m-%d %H:%M}); signature verified on arrival, files unchanged since",
    )


def _content_version(catalog: Any) -> str:
    """The content hash of a loaded catalog, computed the way the platform names versions."""
    import datetime as dt
    import json

    from sync.protocol import catalog_content_version

    def plain(value: Any) -> Any:  # YAML may hold dates; the platform hashed them as ISO text
        return json.loads(json.dumps(value, ensure_ascii=False,
                                     default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)))

    categories = [{"id": c.id, "name": {"zh_CN": c.name.zh_CN, "en": c.name.en}} for c in catalog.categories]
    services = [plain(dict(s.raw)) for s in catalog.services]
    return catalog_content_version(1, categories, services)


# --- devices and printers -------------------------------------------------------------------------


def check_devices(ctx: _Context) -> list[Check]:
    """Each configured device ([devices] in the config) through its driver's health."""
    from devices.health import HealthState, decoder_health

    cfg = ctx.config.devices
    results: list[Check] = []
    if cfg.idcard_port:
        from devices.idcard import IdCardReader

        results.append(_from_health(IdCardReader(cfg.idcard_port, baudrate=cfg.idcard_baudrate).health(),
                                    "ID card reader", f"at {cfg.idcard_port}"))
    else:
        results.append(warned(
            "ID card reader",
            "none configured ([devices] idcard_port is empty): citizens cannot identify with their ID card",
            f"set [devices] idcard_port in {ctx.config_path} to the reader's serial port "
            "(e.g. /dev/ttyUSB0; `ls /dev/serial/by-id/` lists them)",
        ))
    if cfg.scanner_port:
        from devices.serial_scanner import SerialScanner

        scanner = SerialScanner(cfg.scanner_port, lambda _scan: None, baudrate=cfg.scanner_baudrate)
        health = scanner.health()
        # The doctor never starts reading, so "present but not being read" is the good answer here.
        if health.state is HealthState.DEGRADED and "not being read" in health.reason:
            results.append(passed("serial scanner", f"port {cfg.scanner_port} is present"))
        else:
            results.append(_from_health(health, "serial scanner", f"at {cfg.scanner_port}"))
    if cfg.camera:
        results.append(_camera_check(ctx))
    results.append(_from_health(decoder_health(cfg.decoder), f"{cfg.decoder} decoder", "loads"))
    return results


def _from_health(health: Any, name: str, ok_detail: str) -> Check:
    from devices.health import HealthState

    if health.state is HealthState.CONNECTED:
        return passed(name, ok_detail)
    make = warned if health.state is HealthState.DEGRADED else failed
    return make(name, health.reason, health.fix)


def _camera_check(ctx: _Context) -> Check:
    """A camera device node is present (Linux); opening it is the kiosk's job, not the doctor's."""
    if not sys.platform.startswith("linux"):
        return warned("camera", "camera presence is only checked on Linux",
                      "check the camera in the operating system's device manager")
    nodes = sorted(str(p) for p in Path("/dev").glob("video*"))
    if not nodes:
        return failed(
            "camera",
            "[devices] camera is true but there is no camera (/dev/video* is empty)",
            "plug in the camera (USB) and check `ls /dev/video*`; or set [devices] camera = false "
            f"in {ctx.config_path}",
        )
    return passed("camera", "camera device present: " + ", ".join(nodes))


def check_printers(ctx: _Context) -> list[Check]:
    """Each printer from the [printing] section, through its backend's status."""
    from printing.errors import PrinterConfigError
    from printing.printer import PrinterSettings, make_printer

    cfg = ctx.config.printing
    folder = cfg.pdf_folder or ctx.data_dir / "receipts"
    try:
        printer = make_printer(PrinterSettings(
            name="default", backend=cfg.backend, paper=cfg.paper, pdf_folder=folder,
            cups_printer=cfg.cups_printer, escpos_connection=cfg.escpos_connection,
            timeout_seconds=cfg.timeout_seconds,
        ))
    except PrinterConfigError as exc:
        return [failed(f"printer ({cfg.backend})", str(exc),
                       f"correct the [printing] section of {ctx.config_path} (docs/config.md)")]
    status = printer.status()
    name = f"printer ({cfg.backend})"
    detail = f"{printer.describe()}: {status.state.value}" + (f" ({status.detail})" if status.detail else "")
    if status.health == "ok":
        return [passed(name, detail)]
    if status.health in ("warning", "unknown"):
        fix = ("load a new paper roll soon" if status.health == "warning"
               else "this printer does not report its state: reprint a receipt (`kiosk receipt RECEIPT_NO`) "
               "and check it comes out")
        return [warned(name, detail, fix)]
    return [failed(name, detail, _PRINTER_FIX.get(cfg.backend, "check the printer"))]


_PRINTER_FIX = {
    "pdf": "make the [printing] pdf_folder writable by the kiosk's user, or empty the key",
    "cups": "check `lpstat -p` (printer enabled, paper, cable) and [printing] cups_printer",
    "escpos": "check the printer's power, paper and cable, and [printing] escpos_connection",
}


# --- central platform ---------------------------------------------------------------------------


def check_central(ctx: _Context) -> list[Check]:
    """The central platform answers ``GET /v1/health``; our clock agrees with its ``Date`` header."""
    from sync.client import CentralClient, ClientError, InsecureUrlError
    from sync.protocol import API_PREFIX

    enrolment = ctx.store.enrolment() if ctx.store is not None else None
    url = enrolment.central_url if enrolment is not None else ctx.config.central.url
    where = "enrolment" if enrolment is not None else "[central] url"
    central = ctx.config.central
    try:
        client = CentralClient(
            url,
            allow_insecure_http=bool(central.allow_insecure_http),
            ca_bundle=central.ca_bundle,
            connect_timeout=min(DOCTOR_TIMEOUT_SECONDS, float(central.timeout_seconds)),
            read_timeout=min(DOCTOR_TIMEOUT_SECONDS, float(central.timeout_seconds)),
        )
    except (InsecureUrlError, FileNotFoundError) as exc:
        return [failed("central platform", f"{url} (from {where}) cannot be used: {exc}",
                       f"correct [central] url / ca_bundle / allow_insecure_http in {ctx.config_path}")]
    with client:
        sent = time.time()
        try:
            answer = client.get(f"{API_PREFIX}/health", auth=False)
        except ClientError as exc:
            return [failed(
                "central platform",
                f"{url} (from {where}) does not answer: {exc}",
                "check the network cable / Wi-Fi and the address; the kiosk keeps working offline and "
                "sends the queue when it is back",
            )]
        received = time.time()
    results = [passed("central platform", f"{url} answers ({(received - sent) * 1000:.0f} ms)")]
    results.append(_clock_check(answer.headers.get("Date"), (sent + received) / 2, url,
                                ctx.config.doctor.max_clock_skew_seconds))
    return results


def _clock_check(date_header: str | None, local: float, url: str, limit: int) -> Check:
    """Compare our clock with the platform's ``Date`` header (1 s resolution, so ±1 s is noise)."""
    if not date_header:
        return warned("clock", f"{url} sent no Date header; the clock cannot be compared",
                      "check the clock by hand (`timedatectl`), and that NTP is on")
    try:
        theirs = parsedate_to_datetime(date_header).astimezone(UTC).timestamp()
    except (TypeError, ValueError):
        return warned("clock", f"{url} sent an unreadable Date header {date_header!r}",
                      "check the clock by hand (`timedatectl`)")
    skew = local - theirs
    ahead = "ahead of" if skew > 0 else "behind"
    detail = (f"this terminal's clock is {abs(skew):.0f} s {ahead} the central platform's "
              f"(local {datetime.fromtimestamp(local, UTC):%Y-%m-%d %H:%M:%S} UTC)")
    if abs(skew) > limit:
        return failed("clock", detail, "turn on time sync (`timedatectl set-ntp true`, or set the clock "
                      f"with `date -s`); the limit is [doctor] max_clock_skew_seconds = {limit}")
    if abs(skew) > max(limit / 4, 5):
        return warned("clock", detail, "turn on time sync (`timedatectl set-ntp true`) before it drifts further")
    return passed("clock", detail)


# --- disk and fonts -----------------------------------------------------------------------------


def check_disk(ctx: _Context) -> Check:
    """Free space on the data folder's disk against ``[doctor] min_free_disk_mb``."""
    usage = shutil.disk_usage(ctx.data_dir)
    free_mb = usage.free / 1_000_000
    limit = ctx.config.doctor.min_free_disk_mb
    detail = f"{free_mb:,.0f} MB free of {usage.total / 1_000_000:,.0f} MB on the disk of {ctx.data_dir}"
    fix = (f"free space (old files in {ctx.data_dir / 'receipts'} and {ctx.data_dir / 'logs'} may go), "
           f"or lower [doctor] min_free_disk_mb (now {limit})")
    if free_mb < limit:
        return failed("disk space", detail, fix)
    if free_mb < 2 * limit:
        return warned("disk space", detail, fix)
    return passed("disk space", detail)


def check_fonts(ctx: _Context) -> list[Check]:
    """The shipped CJK font loads; fontconfig (which Qt needs to find fonts) is installed."""
    from printing.fonts import FONT_FILE

    results: list[Check] = []
    try:
        from reportlab.pdfbase.ttfonts import TTFont

        TTFont("TongbanDoctorProbe", str(FONT_FILE), subfontIndex=0)
        results.append(passed("CJK font", f"{FONT_FILE} loads"))
    except Exception as exc:  # missing file, or reportlab cannot read it
        results.append(failed("CJK font", f"{FONT_FILE} does not load: {exc}",
                              "reinstall the Tongban bundle (the font ships inside it)"))
    if sys.platform.startswith("linux"):
        if Path("/etc/fonts/fonts.conf").is_file():
            results.append(passed("fontconfig", "/etc/fonts/fonts.conf present"))
        else:
            results.append(failed("fontconfig", "/etc/fonts/fonts.conf is missing: Qt cannot find fonts "
                                  "and draws no text", "apt-get install fontconfig-config fontconfig"))
    return results


def timestamp() -> str:
    """Now, for the report's heading."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
