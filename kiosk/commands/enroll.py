"""``kiosk enroll``: join this terminal to a central platform with a one-time code.

The code (typed, or scanned from the QR a technician's admin screen shows) is exchanged
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
from typing import Any

from kiosk.cli import CliContext, CommandError, print_json
from kiosk.commands.queue import open_terminal_store
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
    p.add_argument("--code", required=True, metavar="CODE", help="the one-time enrolment code")
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
            central_url=client.base_url,
            enrolled_at=now or utc_now(),
        )
    except ValueError as exc:
        raise EnrolmentUnusable(
            f"the central platform's enrolment answer is unusable: {exc}"
        ) from exc
    store.save_enrolment(enrolment, now=now)
    return enrolment


def enroll(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk enroll [--central URL] --code CODE [--force] [--json]``."""
    url = args.central or ctx.config.central.url
    with open_terminal_store(ctx) as store:
        previous = store.enrolment()
        if previous is not None and not args.force:
            raise CommandError(
                f"this terminal is already enrolled as device {previous.device_code} at site "
                f"{previous.site_code} ({previous.central_url}); add --force to enrol it again",
                1,
            )
        try:
            client = CentralClient(url, **client_settings(ctx))
        except (InsecureUrlError, FileNotFoundError) as exc:
            raise CommandError(str(exc), 2) from exc
        with client:
            try:
                enrolment = enrol_terminal(
                    store, client, args.code, device_name=socket.gethostname()[:100]
                )
            except PermanentError as exc:
                raise CommandError(f"enrolment refused by {client.base_url}: {exc}", 1) from exc
            except RetryableError as exc:
                raise CommandError(
                    f"cannot reach the central platform at {client.base_url}: {exc}; "
                    "check the address and the network, then try again",
                    1,
                ) from exc
            except EnrolmentUnusable as exc:
                raise CommandError(str(exc), 1) from exc
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
