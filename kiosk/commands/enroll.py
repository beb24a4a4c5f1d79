"""``kiosk enroll``: join this terminal to a central platform with a one-time code.

The code (typed, or scanned from the QR ``kiosk-central enroll-code create --qr`` makes:
``--from-qr IMAGE`` here, or the maintenance screen through :func:`enroll_from_payload`) is exchanged
for the terminal's device id and credential, its site and device codes (they start every
receipt number it makes) and the platform's public keys: the sealing key submissions are
sealed to and the key that signs catalogs. All of it is stored in the terminal's database
in one transaction. The credential is never printed or logged.
"""

from __future__ import annotations

import argparse
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from devices.enrolment_qr import EnrolmentCode, EnrolmentQrError, parse_enrolment_qr
from kiosk.cli import CliContext, CommandError, print_json
from sync.client import CentralClient, InsecureUrlError, PermanentError, RetryableError
from sync.enrolment import Enrolment
from sync.protocol import PROTOCOL_VERSION, b64decode
from sync.store import Store
from sync.store_common import utc_now


def register(sub: Any) -> None:
    """Add ``enroll``."""
    p = sub.add_parser(
        "enroll",
        help="enrol this terminal at the central platform with a one-time code",
        description="Exchange a one-time enrolment code (kiosk-central enroll-code create) "
        "for this terminal's credential, site and device codes and the platform's keys.",
    )
    p.add_argument(
        "--central",
        metavar="URL",
        help="address of the central platform (default: [central] url from the config)",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--code", metavar="CODE", help="the one-time enrolment code")
    source.add_argument(
        "--from-qr",
        metavar="IMAGE",
        type=Path,
        help="a photo or PNG of the enrolment QR (kiosk-central enroll-code create --qr): "
        "it carries the platform's address and the code",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="enrol again although this terminal is already enrolled",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"device_id", "device_code", "site_code", "central_url"}',
    )
    p.set_defaults(handler=enroll)


def client_settings(ctx: CliContext) -> dict[str, Any]:
    """The HTTP client settings from the ``[central]`` section of the config."""
    return client_settings_from(ctx.config)


def client_settings_from(config: Any) -> dict[str, Any]:
    """The HTTP client settings from the ``[central]`` section of ``config``."""
    central = config.central
    return {
        "allow_insecure_http": bool(central.allow_insecure_http),
        "ca_bundle": central.ca_bundle,
        "connect_timeout": min(float(central.timeout_seconds), 10.0),
        "read_timeout": float(central.timeout_seconds),
    }


class EnrolmentUnusable(Exception):
    """The platform's enrolment answer cannot be used by this terminal."""


def enrol_terminal(
    store: Store,
    client: CentralClient,
    code: str,
    *,
    device_name: str | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """Exchange ``code`` at the platform ``client`` talks to and store the enrolment.

    Raises:
        PermanentError: the platform refused the code (unknown, used, expired).
        RetryableError: the platform could not be reached or answered garbage.
        EnrolmentUnusable: the answer is for another protocol version or malformed.
    """
    answer = client.enrol(code.strip(), device_name=device_name)
    if answer.protocol_version != PROTOCOL_VERSION:
        raise EnrolmentUnusable(
            f"the central platform speaks protocol v{answer.protocol_version}, this "
            f"terminal v{PROTOCOL_VERSION}; update the software"
        )
    try:
        enrolment = Enrolment(
            device_id=answer.device_id,
            device_code=answer.device_code,
            site_code=answer.site_code,
            token=answer.token,
            sealing_public_key=b64decode(answer.sealing_public_key),
            catalog_signing_key=b64decode(answer.catalog_signing_public_key),
            appointment_signing_key=(
                b64decode(answer.appointment_signing_public_key)
                if answer.appointment_signing_public_key else None
            ),
            central_url=client.base_url,
            enrolled_at=now or utc_now(),
        )
    except ValueError as exc:
        raise EnrolmentUnusable(
            f"the central platform's enrolment answer is unusable: {exc}"
        ) from exc
    store.save_enrolment(enrolment, now=now)
    return enrolment


class EnrolmentFailed(Exception):
    """Enrolment did not happen; the message says why and what to do (no secrets in it)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def enroll_from_payload(
    data_dir: Path, config: Any, text: str, *, force: bool = False, device_name: str | None = None
) -> Enrolment:
    """Enrol this terminal from the text of an enrolment QR code (for the maintenance screen).

    ``text`` is what the scanner read (``tongban-enrol:{"url": ..., "code": ...}``). Blocks for
    up to the configured timeout (HTTP): call it off the UI thread.

    Raises:
        EnrolmentFailed: not an enrolment QR, already enrolled (without ``force``), refused by
            the platform, platform unreachable; the message is for the technician.
    """
    try:
        qr = parse_enrolment_qr(text.strip())
    except EnrolmentQrError as exc:
        raise EnrolmentFailed(f"not a usable enrolment QR code: {exc}", 2) from exc
    return _enrol(data_dir, config, qr, force=force, device_name=device_name)


def _enrol(
    data_dir: Path, config: Any, qr: EnrolmentCode, *, force: bool, device_name: str | None
) -> Enrolment:
    from sync.store import StoreError, database_path, open_store

    try:
        store = open_store(database_path(data_dir))
    except StoreError as exc:
        raise EnrolmentFailed(str(exc), 2) from exc
    with store:
        previous = store.enrolment()
        if previous is not None and not force:
            raise EnrolmentFailed(
                f"this terminal is already enrolled as device {previous.device_code} at site "
                f"{previous.site_code} ({previous.central_url}); add --force to enrol it again",
                1,
            )
        try:
            client = CentralClient(qr.url, **client_settings_from(config))
        except (InsecureUrlError, FileNotFoundError) as exc:
            raise EnrolmentFailed(str(exc), 2) from exc
        with client:
            try:
                return enrol_terminal(
                    store, client, qr.code, device_name=device_name or socket.gethostname()[:100]
                )
            except PermanentError as exc:
                raise EnrolmentFailed(f"enrolment refused by {client.base_url}: {exc}", 1) from exc
            except RetryableError as exc:
                raise EnrolmentFailed(
                    f"cannot reach the central platform at {client.base_url}: {exc}; "
                    "check the address and the network, then try again",
                    1,
                ) from exc
            except EnrolmentUnusable as exc:
                raise EnrolmentFailed(str(exc), 1) from exc


def _code_from_image(path: Path, ctx: CliContext) -> EnrolmentCode:
    """Decode the enrolment QR in the image file at ``path`` with the configured decoder."""
    from devices.decoder import DecoderError, make_decoder
    from devices.payload import PayloadKind
    from kiosk.commands.scan import _decode_file, _ImageError

    try:
        results = _decode_file(make_decoder(ctx.config.devices.decoder), path)
    except _ImageError as exc:
        raise CommandError(f"{path}: {exc}", 2) from exc
    except DecoderError as exc:
        raise CommandError(f"{exc}; set [devices] decoder = \"zxing\" in the config", 2) from exc
    for result in results:
        if result.kind is PayloadKind.ENROLMENT:
            if result.payload.enrolment is None:
                raise CommandError(f"{path}: not a usable enrolment QR code: {result.payload.problem}", 2)
            return result.payload.enrolment
    kinds = ", ".join(sorted({r.kind.value for r in results}))
    raise CommandError(
        f"{path}: the code in it is not an enrolment QR ({kinds}); make one with "
        "`kiosk-central enroll-code create --site SITE --url URL --qr FILE.png`",
        2,
    )


def enroll(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk enroll (--code CODE [--central URL] | --from-qr IMAGE) [--force] [--json]``."""
    if args.from_qr is not None:
        if args.central:
            raise CommandError("--central is not used with --from-qr: the QR carries the address", 2)
        qr = _code_from_image(args.from_qr, ctx)
    else:
        qr = EnrolmentCode(url=args.central or ctx.config.central.url, code=args.code)
    try:
        enrolment = _enrol(ctx.data_dir, ctx.config, qr, force=args.force, device_name=None)
    except EnrolmentFailed as exc:
        raise CommandError(str(exc), exc.code) from exc
    facts = {
        "device_id": enrolment.device_id,
        "device_code": enrolment.device_code,
        "site_code": enrolment.site_code,
        "central_url": enrolment.central_url,
    }
    if args.json:
        print_json(facts)
    else:
        sys.stdout.write(
            f"enrolled: device {enrolment.device_code} ({enrolment.device_id}) at site "
            f"{enrolment.site_code}, central platform {enrolment.central_url}\n"
        )
    return 0
