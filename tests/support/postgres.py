"""A throwaway PostgreSQL cluster for tests and benchmarks.

    cluster = PostgresCluster.start()          # initdb + pg_ctl start in a temp folder
    url = cluster.create_database("t1")        # postgresql:///t1?host=...&user=tongban
    cluster.create_database(template="t1")     # a fresh name, a copy of t1
    cluster.stop()                             # pg_ctl stop, folder removed

The server listens only on a Unix socket inside its own temp folder (no TCP port, nothing
reachable from outside). PostgreSQL refuses to run as root, so as root the binaries run as
the ``postgres`` system user (``runuser -u postgres``) in a folder it owns. The binaries
come from ``$PG_BIN``, else the newest ``/usr/lib/postgresql/*/bin`` (Debian), else the
``PATH``. ``durable=False`` (tests) turns fsync off; benchmarks keep the defaults.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

USER = "tongban"
_names = itertools.count(1)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here (the message says why)."""


def _bin_dir() -> Path:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                      if p.parent.name.isdigit() else 0)
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable(
        "no PostgreSQL binaries (initdb): install the Debian package postgresql "
        "(scripts/bootstrap.sh test) or set PG_BIN"
    )


@dataclass
class PostgresCluster:
    """A running throwaway cluster (see module docstring)."""

    root: Path
    bin_dir: Path
    run_as: str | None

    @property
    def socket_dir(self) -> Path:
        """The folder holding the server's Unix socket."""
        return self.root / "sock"

    @classmethod
    def start(cls, *, durable: bool = False, max_connections: int = 300) -> PostgresCluster:
        """initdb and start a cluster; raises :class:`PostgresUnavailable` with the reason."""
        bin_dir = _bin_dir()
        if not (bin_dir / "initdb").exists():
            raise PostgresUnavailable(f"{bin_dir / 'initdb'} does not exist")
        run_as: str | None = None
        # As root, in /tmp itself: the postgres user must reach the folder (TMPDIR may be
        # under /root), and a Unix socket path must stay under 108 bytes.
        root = Path(tempfile.mkdtemp(prefix="tongban-pg-", dir="/tmp" if os.geteuid() == 0 else None))
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                shutil.rmtree(root, ignore_errors=True)
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' system user to run the server as"
                ) from exc
            run_as = "postgres"
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = cls(root, bin_dir, run_as)
        (root / "sock").mkdir()
        if run_as:
            os.chown(root / "sock", pwd.getpwnam(run_as).pw_uid, pwd.getpwnam(run_as).pw_gid)
        try:
            cluster._run("initdb", "-D", str(root / "data"), "-U", USER, "--auth=trust",
                         "-E", "UTF8", "--locale=C", "--no-sync")
            options = [
                f"-c listen_addresses='' -c unix_socket_directories={root / 'sock'}",
                f"-c max_connections={max_connections}",
            ]
            if not durable:
                options.append("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            cluster._run("pg_ctl", "-D", str(root / "data"), "-l", str(root / "server.log"),
                         "-o", " ".join(options), "-w", "-t", "60", "start")
        except PostgresUnavailable:
            cluster.stop()
            raise
        return cluster

    def _run(self, program: str, *args: str) -> None:
        cmd = [str(self.bin_dir / program), *args]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, timeout=120, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text("utf-8", errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{program} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-1500:]}"
                + (f"\nserver log:\n{tail}" if tail else "")
            )

    def url(self, dbname: str) -> str:
        """The URL of a database in this cluster (Unix socket, trust authentication)."""
        return f"postgresql:///{dbname}?host={self.socket_dir}&user={USER}"

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """``CREATE DATABASE name [TEMPLATE template]`` (a fresh name if none); its URL."""
        name = name or f"t{next(_names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            conn.execute(sql)  # type: ignore[arg-type]
        return self.url(name)

    def stop(self, *, remove_in_background: bool = False) -> None:
        """Stop the server (fast) and remove its folder.

        After a whole test session (about 180 databases written to) removing the folder took
        70 s on the 2-core CI machine, far longer than stopping the server;
        ``remove_in_background`` leaves that to a detached ``rm -rf`` once the server is down.
        """
        if (self.root / "data" / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
            except PostgresUnavailable:
                pass
        if remove_in_background and not (self.root / "data" / "postmaster.pid").exists():
            subprocess.Popen(["rm", "-rf", str(self.root)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            return
        shutil.rmtree(self.root, ignore_errors=True)
