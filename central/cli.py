"""The ``kiosk-central`` command: run and administer the reference central platform.

Errors a technician can hit end the command with one clear line on stderr and a non-zero
status (1: the request cannot be done, 2: the set-up is broken), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs

from central.store import SubmissionRecord

log = logging.getLogger(__name__)

DATA_DIR_ENV = "KIOSK_CENTRAL_DATA_DIR"
LOG_FILE = "logs/central.log"


class CommandError(Exception):
    """An expected failure: printed as one line, exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def resolve_data_dir(value: str | None) -> Path:
    """``--data-dir``, else ``KIOSK_CENTRAL_DATA_DIR``, else the per-user data folder."""
    raw = value or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir(
        "tongban-central", appauthor=False
    )
    path = Path(raw).expanduser().absolute()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(
            f"cannot create the data folder {path}: {exc.strerror}; choose another with "
            f"--data-dir or {DATA_DIR_ENV}",
            2,
        ) from exc
    return path


class _OneLineFormatter(logging.Formatter):
    """Log lines for the terminal window: an exception is named, its traceback left out.

    The traceback goes to the log file in the data folder.
    """

    def format(self, record: logging.LogRecord) -> str:
        """One line per record."""
        if not record.exc_info:
            return super().format(record)
        exc = record.exc_info[1]
        plain = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return f"{super().format(plain)} [{type(exc).__name__}: {exc}; see {LOG_FILE}]"


_HANDLER_NAMES = ("tongban-central-stderr", "tongban-central-file")


def _remove_handlers() -> None:
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() in _HANDLER_NAMES:
            root.removeHandler(old)
            old.close()


def _setup_logging(data_dir: Path | None, level: str, *, to_file: bool) -> None:
    """Log to stderr (and the data folder's log file); a second call replaces, never adds."""
    _remove_handlers()
    root = logging.getLogger()
    root.setLevel(level)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.set_name(_HANDLER_NAMES[0])
    stderr.setLevel(level)
    stderr.setFormatter(_OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(stderr)
    if to_file and data_dir is not None:
        path = data_dir / LOG_FILE
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        handler.set_name(_HANDLER_NAMES[1])
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s")
        )
        root.addHandler(handler)


def _open_store(args: argparse.Namespace, data_dir: Path) -> Any:
    from central.database import open_store

    return open_store(data_dir, args.database)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _json_out(value: Any) -> None:
    _out(json.dumps(value, ensure_ascii=False, indent=2, default=str))


# --- commands ---------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, data_dir: Path) -> int:
    """Run the platform until SIGTERM/SIGINT."""
    from central.app import create_app
    from central.server import bind_socket, serve, serve_workers, url_of

    catalog_dir = Path(args.catalog).expanduser().absolute() if args.catalog else None
    if catalog_dir is not None and not catalog_dir.is_dir():
        raise CommandError(f"catalog folder {catalog_dir} does not exist (--catalog)", 2)
    if args.workers < 1:
        raise CommandError("--workers must be 1 or more", 2)
    if args.workers > 1 and not _is_postgres(args, data_dir):
        log.warning("--workers %d with SQLite: one writer at a time still; see docs/central.md",
                    args.workers)
    # Made here first in any case, so a broken set-up fails before anything listens; with
    # --workers each worker then makes its own (migrations, keys and the catalog are
    # idempotent, so doing them again costs only time).
    app = create_app(data_dir, catalog_dir, database=args.database)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
            "choose another --host/--port",
            2,
        ) from exc
    url = url_of(args.host, sock)

    def ready() -> None:
        log.info("Listening on %s (data folder %s)", url, data_dir)
        _out(f"listening on {url}")

    if args.workers > 1:
        app.state.platform.store.close()  # no pool threads across the fork
        try:
            return serve_workers(
                lambda: create_app(data_dir, catalog_dir, database=args.database),
                sock, workers=args.workers, on_ready=ready, access_log=not args.no_access_log,
            )
        finally:
            sock.close()
    try:
        serve(app, sock, on_ready=ready, access_log=not args.no_access_log)
    finally:
        sock.close()
        app.state.platform.store.close()
    return 0


def _is_postgres(args: argparse.Namespace, data_dir: Path) -> bool:
    from central.database import database_url

    return database_url(data_dir, args.database) is not None


def cmd_enroll_code_create(args: argparse.Namespace, data_dir: Path) -> int:
    """Create a one-time enrolment code for a site."""
    from central.enrolment import InvalidSiteCode, enrolment_qr_text, issue_code, write_enrolment_qr

    if args.ttl_hours <= 0:
        raise CommandError("--ttl-hours must be positive")
    if args.qr is not None and not args.url:
        raise CommandError(
            "--qr needs --url: the address terminals reach this platform at, e.g. "
            "--url https://central.example.gov.cn",
            2,
        )
    if args.url:
        try:
            enrolment_qr_text(args.url, "CHECK")
        except ValueError as exc:
            raise CommandError(f"--url: {exc}", 2) from exc
    if args.qr is not None and not args.qr.parent.is_dir():
        raise CommandError(f"--qr: folder {args.qr.parent} does not exist", 2)
    try:
        issued = issue_code(
            _open_store(args, data_dir), args.site, ttl=timedelta(hours=args.ttl_hours)
        )
    except InvalidSiteCode as exc:
        raise CommandError(str(exc)) from exc
    qr_text = enrolment_qr_text(args.url, issued.code) if args.url else None
    if args.qr is not None and qr_text is not None:
        try:
            write_enrolment_qr(qr_text, args.qr)
        except OSError as exc:
            raise CommandError(f"cannot write the QR code to {args.qr}: {exc.strerror or exc}", 2) from exc
    if args.json:
        _json_out(
            {
                "code": issued.code,
                "site_code": issued.site_code,
                "expires_at": issued.expires_at.isoformat(),
                "qr_text": qr_text,
                "qr_file": str(args.qr) if args.qr is not None else None,
            }
        )
    else:
        _out(issued.code)
        if args.qr is not None:
            _out(f"QR code written to {args.qr} (valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC; "
                 "show it to the kiosk's scanner or run `kiosk enroll --from-qr FILE`)")
    return 0


def _submission_json(record: SubmissionRecord, *, answers: bool = False) -> dict[str, Any]:
    value: dict[str, Any] = {
        "submission_id": record.submission_id,
        "case_no": record.case_no,
        "receipt_no": record.receipt_no,
        "service_id": record.service_id,
        "form_version": record.form_version,
        "is_test": record.is_test,
        "status": record.status,
        "status_note": record.status_note,
        "status_changed_at": record.status_changed_at.isoformat(),
        "site_code": record.site_code,
        "device_id": record.device_id,
        "created_at": record.created_at.isoformat(),
        "received_at": record.received_at.isoformat(),
        "attachments": list(record.attachments),
        "agent_id": record.agent_id,
    }
    if answers:
        value["answers"] = record.answers
    return value


def cmd_submissions_list(args: argparse.Namespace, data_dir: Path) -> int:
    """List received submissions, oldest first."""
    records = _open_store(args, data_dir).list_submissions(limit=args.limit)
    if args.json:
        _json_out([_submission_json(r) for r in records])
        return 0
    if not records:
        _out("no submissions")
        return 0
    for r in records:
        test = " [test]" if r.is_test else ""
        _out(
            f"{r.case_no}  {r.receipt_no}  {r.service_id} v{r.form_version}  {r.status}  "
            f"{r.received_at:%Y-%m-%d %H:%M:%S}Z{test}"
        )
    return 0


def cmd_submissions_show(args: argparse.Namespace, data_dir: Path) -> int:
    """Show one submission with its answers (personal data: for case workers)."""
    record = _open_store(args, data_dir).get_submission(args.key)
    if record is None:
        raise CommandError(f"no submission with id, case number or receipt number {args.key}")
    value = _submission_json(record, answers=True)
    if args.json:
        _json_out(value)
    else:
        for key, item in value.items():
            _out(f"{key}: {json.dumps(item, ensure_ascii=False) if key == 'answers' else item}")
    return 0


def cmd_case_set_status(args: argparse.Namespace, data_dir: Path) -> int:
    """Record a case status change; terminals pick it up with their next status pull."""
    from central.store import CaseNotFound
    from sync.protocol import CaseStatus

    if args.status not in CaseStatus.ALL:
        raise CommandError(
            f"unknown status {args.status!r}; use one of: {', '.join(CaseStatus.ALL)}"
        )
    try:
        change = _open_store(args, data_dir).set_case_status(
            args.case_no, args.status, args.note, now=datetime.now(UTC)
        )
    except CaseNotFound as exc:
        raise CommandError(f"no case {args.case_no}; see 'kiosk-central submissions list'") from exc
    if args.json:
        _json_out(
            {
                "case_no": change.case_no,
                "receipt_no": change.receipt_no,
                "status": change.status,
                "note": change.note,
                "cursor": change.cursor,
                "changed_at": change.changed_at.isoformat(),
            }
        )
    else:
        _out(f"{change.case_no}: {change.status}")
    return 0


def cmd_devices_list(args: argparse.Namespace, data_dir: Path) -> int:
    """List enrolled devices."""
    devices = _open_store(args, data_dir).list_devices()
    rows = [
        {
            "device_id": d.device_id,
            "device_code": d.device_code,
            "site_code": d.site_code,
            "name": d.name,
            "enrolled_at": d.enrolled_at.isoformat(),
            "revoked_at": d.revoked_at.isoformat() if d.revoked_at else None,
        }
        for d in devices
    ]
    if args.json:
        _json_out(rows)
        return 0
    if not rows:
        _out("no devices")
    for d in devices:
        state = f"revoked {d.revoked_at:%Y-%m-%d}" if d.revoked_at else "active"
        _out(f"{d.device_id}  {d.device_code}  {d.site_code}  {d.name or '-'}  {state}")
    return 0


def cmd_devices_revoke(args: argparse.Namespace, data_dir: Path) -> int:
    """Revoke a device: its token is refused from now on."""
    device = _open_store(args, data_dir).revoke_device(args.device_id, now=datetime.now(UTC))
    if device is None:
        raise CommandError(f"no device {args.device_id}; see 'kiosk-central devices list'")
    _out(f"revoked {device.device_id} ({device.device_code}, site {device.site_code})")
    return 0


def _hall_store(args: argparse.Namespace, data_dir: Path) -> Any:
    from central.hall_store import HallStore

    return HallStore(_open_store(args, data_dir))


def _default_hall(store: Any) -> str:
    sites = sorted({d.site_code for d in store.list_devices() if not d.revoked})
    if len(sites) != 1:
        raise CommandError(
            "say which hall the appointment is for with --hall SITE "
            + (f"(devices are enrolled at {', '.join(sites)})" if sites else "(no device is enrolled yet)")
        )
    return sites[0]


def cmd_appointments_create(args: argparse.Namespace, data_dir: Path) -> int:
    """Issue an appointment token (for demos and tests) and print it, or its QR as PNG."""
    from central.appointments import AppointmentError, make_appointment, parse_slot
    from central.enrolment import InvalidSiteCode, normalise_site_code
    from central.hall_store import HallStore
    from central.keys import load_or_create_keys

    store = _open_store(args, data_dir)
    try:
        hall = normalise_site_code(args.hall) if args.hall else _default_hall(store)
        slot = parse_slot(args.slot)
    except (InvalidSiteCode, AppointmentError) as exc:
        raise CommandError(str(exc)) from exc
    if store.current_catalog() is not None and not store.service_known(args.service):
        raise CommandError(
            f"service {args.service!r} is not in the published catalog; see the catalog's service ids"
        )
    if args.valid_minutes <= 0:
        raise CommandError("--valid-minutes must be positive")
    keys = load_or_create_keys(data_dir)
    issued = make_appointment(
        keys, service_id=args.service, slot=slot, hall=hall, name=args.name,
        valid_after_slot=timedelta(minutes=args.valid_minutes),
    )
    HallStore(store).add_appointment(issued, now=datetime.now(UTC))
    if args.png:
        import segno

        # make_qr: never a Micro QR, which common scanners cannot read.
        segno.make_qr(issued.token, error="m").save(args.png, scale=6, border=4)
    value = {
        "appointment_id": issued.appointment_id,
        "service_id": issued.service_id,
        "slot": issued.slot.isoformat(),
        "masked_name": issued.masked_name,
        "hall": issued.hall,
        "expires_at": issued.expires_at.isoformat(),
        "token": issued.token,
        "png": str(args.png) if args.png else None,
    }
    if args.json:
        _json_out(value)
    else:
        _out(f"appointment {issued.appointment_id}")
        _out(issued.token)
        if args.png:
            _out(f"QR code written to {args.png}")
    return 0


def cmd_ratings_summary(args: argparse.Namespace, data_dir: Path) -> int:
    """Counts per level, per service and the reasons given with low ratings."""
    summary = _hall_store(args, data_dir).ratings_summary(site_code=args.site)
    if args.json:
        _json_out(summary.as_dict())
        return 0
    _out(f"ratings: {summary.total}")
    for score in range(5, 0, -1):
        _out(f"  {score}: {summary.by_score.get(score, 0)}")
    for service, facts in summary.by_service.items():
        _out(f"{service}: {int(facts['count'])} ratings, average {facts['average']:.2f}")
    if summary.low_reasons:
        _out("low-rating reasons: " + ", ".join(f"{k} ({v})" for k, v in summary.low_reasons.items()))
    return 0


def cmd_audit_verify(args: argparse.Namespace, data_dir: Path) -> int:
    """Verify the audit chain each terminal sent (or one device's)."""
    hall = _hall_store(args, data_dir)
    devices = [args.device] if args.device else hall.audit_devices()
    checks = [hall.verify_chain(d) for d in devices]
    if args.json:
        _json_out([c.__dict__ for c in checks])
    else:
        if not checks:
            _out("no audit entries received")
        for c in checks:
            state = "OK" if c.ok else f"BROKEN at entry {c.broken_seq}: {c.problem}"
            _out(f"{c.device_id}  {c.entries} entries  {state}")
    return 0 if all(c.ok for c in checks) else 1


def cmd_checkins_list(args: argparse.Namespace, data_dir: Path) -> int:
    """List check-ins and walk-in tickets received from terminals."""
    rows = _hall_store(args, data_dir).list_checkins(site_code=args.site)
    if args.json:
        _json_out(rows)
        return 0
    if not rows:
        _out("no check-ins")
    for r in rows:
        _out(f"{r['checked_in_at']}  {r['site_code']}  {r['ticket_no']}  {r['kind']}  "
             f"{r['appointment_id'] or r['category'] or '-'}")
    return 0


# --- parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kiosk-central``."""
    parser = argparse.ArgumentParser(
        prog="kiosk-central", description="Tongban reference central platform."
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"data folder (keys, database, attachments, logs); default ${DATA_DIR_ENV} or "
        "the per-user data folder",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        default=None,
        help="a PostgreSQL database (postgresql://USER@HOST:PORT/DBNAME) instead of SQLite in "
        "the data folder; default $KIOSK_CENTRAL_DATABASE or 'database' in DIR/central.toml",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        sub: Any, name: str, handler: Callable[[argparse.Namespace, Path], int], help_: str
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    serve = add(commands, "serve", cmd_serve, "run the platform")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700, help="0 picks a free port")
    serve.add_argument(
        "--catalog", metavar="PATH", help="catalog folder to publish (default: the bundled one)"
    )
    serve.add_argument("--no-access-log", action="store_true", help="do not log each request")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="server processes sharing the port (default 1; more pay off with PostgreSQL)",
    )

    enroll = commands.add_parser("enroll-code", help="enrolment codes").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = add(enroll, "create", cmd_enroll_code_create, "create a one-time enrolment code")
    create.add_argument("--site", required=True, help="site code, 2-8 of A-Z0-9")
    create.add_argument("--ttl-hours", type=float, default=24.0, help="valid for (default 24)")
    create.add_argument(
        "--url", metavar="URL", help="this platform's address as terminals reach it (put into the QR code)"
    )
    create.add_argument(
        "--qr", metavar="FILE.png", type=Path, help="also write a QR code (platform address + code) as PNG"
    )
    create.add_argument("--json", action="store_true")

    subs = commands.add_parser("submissions", help="received submissions").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    listing = add(subs, "list", cmd_submissions_list, "list submissions, oldest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--limit", type=int, default=None)
    show = add(subs, "show", cmd_submissions_show, "one submission with its answers")
    show.add_argument("key", help="submission id, case number or receipt number")
    show.add_argument("--json", action="store_true")

    case = commands.add_parser("case", help="case status").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    set_status = add(case, "set-status", cmd_case_set_status, "record a case status change")
    set_status.add_argument("case_no")
    set_status.add_argument("status", help="received, in_review, more_info_needed, approved, "
                            "rejected, ready_for_collection, completed or withdrawn")
    set_status.add_argument("--note", default=None)
    set_status.add_argument("--json", action="store_true")

    devices = commands.add_parser("devices", help="enrolled devices").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    dev_list = add(devices, "list", cmd_devices_list, "list devices")
    dev_list.add_argument("--json", action="store_true")
    revoke = add(devices, "revoke", cmd_devices_revoke, "revoke a device")
    revoke.add_argument("device_id")

    appointments = commands.add_parser("appointments", help="appointment tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    appt = add(appointments, "create", cmd_appointments_create, "issue an appointment token (QR)")
    appt.add_argument("--service", required=True, metavar="ID", help="service id from the catalog")
    appt.add_argument("--slot", required=True, metavar="ISO8601",
                      help="appointment time, e.g. 2025-03-14T09:30 (hall time) or with an offset")
    appt.add_argument("--name", default=None, help="the citizen's name (only a masked form goes in the token)")
    appt.add_argument("--hall", default=None, metavar="SITE",
                      help="site code of the hall (default: the only site with enrolled devices)")
    appt.add_argument("--valid-minutes", type=int, default=30,
                      help="how long after the slot the token is accepted (default 30)")
    appt.add_argument("--png", default=None, metavar="FILE", help="also write the QR code as a PNG image")
    appt.add_argument("--json", action="store_true")

    ratings = commands.add_parser("ratings", help="satisfaction ratings").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    summary = add(ratings, "summary", cmd_ratings_summary, "counts per level, per service, low-rating reasons")
    summary.add_argument("--site", default=None, help="only this hall")
    summary.add_argument("--json", action="store_true")

    audit = commands.add_parser("audit", help="terminals' audit logs").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    verify = add(audit, "verify", cmd_audit_verify, "verify each terminal's audit hash chain")
    verify.add_argument("--device", default=None, help="only this device id")
    verify.add_argument("--json", action="store_true")

    checkins = commands.add_parser("checkins", help="check-ins and tickets").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    checkin_list = add(checkins, "list", cmd_checkins_list, "list check-ins and tickets")
    checkin_list.add_argument("--site", default=None, help="only this hall")
    checkin_list.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kiosk-central``; returns the exit status."""
    from central.catalog_publisher import CatalogPublishError
    from central.keys import KeyFileError
    from central.store import StoreError

    args = build_parser().parse_args(argv)
    serving = args.handler is cmd_serve
    data_dir: Path | None = None
    try:
        data_dir = resolve_data_dir(args.data_dir)
        _setup_logging(data_dir, args.log_level if serving else "WARNING", to_file=serving)
        return int(args.handler(args, data_dir))
    except CommandError as exc:
        sys.stderr.write(f"kiosk-central: error: {exc}\n")
        return exc.code
    except (KeyFileError, CatalogPublishError, StoreError) as exc:
        sys.stderr.write(f"kiosk-central: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: one line, details in the log
        if serving:
            log.error("Unexpected error", exc_info=True)  # traceback into the log file only
        sys.stderr.write(f"kiosk-central: error: {type(exc).__name__}: {exc}\n")
        return 1
    finally:
        _remove_handlers()


if __name__ == "__main__":
    sys.exit(main())
