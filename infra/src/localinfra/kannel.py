"""A real Kannel SMS gateway (bearerbox + smsbox) and its fake SMSC (fakesmsc) as local processes."""

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from localinfra.errors import InfraError
from localinfra.kannel_log import ReceivedSms, parse_fakesmsc_log
from localinfra.ports import LOOPBACK, free_ports, port_open
from localinfra.proc import die_with_parent, run_checked, tail

__all__ = ["KannelGateway", "ReceivedSms", "ensure_kannel_binaries", "start_kannel"]

# Debian packages: bearerbox and smsbox come with `kannel`, fakesmsc with `kannel-extras`.
PACKAGES = ("kannel", "kannel-extras")
_BINARIES = {
    "bearerbox": Path("/usr/sbin/bearerbox"),
    "smsbox": Path("/usr/sbin/smsbox"),
    "fakesmsc": Path("/usr/lib/kannel/test/fakesmsc"),
}


def _find(name: str) -> Path | None:
    found = shutil.which(name)
    if found is not None:
        return Path(found)
    return _BINARIES[name] if _BINARIES[name].exists() else None


def ensure_kannel_binaries() -> dict[str, Path]:
    """Paths of bearerbox, smsbox and fakesmsc, installing the Debian packages when root."""
    found = {name: _find(name) for name in _BINARIES}
    if any(path is None for path in found.values()):
        if os.geteuid() != 0:
            raise InfraError(f"Kannel not installed: apt-get install {' '.join(PACKAGES)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run_checked(["apt-get", "update"], what="apt-get update", timeout=600, env=env)
        run_checked(
            ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
            what=f"apt-get install {' '.join(PACKAGES)}",
            timeout=900,
            env=env,
        )
        found = {name: _find(name) for name in _BINARIES}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise InfraError(f"{', '.join(missing)} still missing after installing {' '.join(PACKAGES)}")
    return {name: path for name, path in found.items() if path is not None}


class KannelGateway:
    """bearerbox + smsbox on 127.0.0.1 with one `fake` SMSC that fakesmsc connects to.

    The fake SMSC acknowledges every message and produces delivery reports (DLR type 8 from the
    SMSC, then 1 "delivered"), so a sender's `dlr-url` is called back as with a real operator.
    """

    def __init__(self, workdir: Path, *, owns_workdir: bool = False) -> None:
        self.binaries = ensure_kannel_binaries()
        self.workdir = workdir.resolve()
        self.admin_port, self.box_port, self.smsc_port, self.sendsms_port = free_ports(4)
        self.username = "notify"
        self.password = secrets.token_hex(8)
        self.admin_password = secrets.token_hex(8)
        self.config_path = self.workdir / "kannel.conf"
        self.fakesmsc_log = self.workdir / "fakesmsc.log"
        self._owns_workdir = owns_workdir
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    def __repr__(self) -> str:
        return f"KannelGateway(sendsms_url={self.sendsms_url!r})"

    @property
    def sendsms_url(self) -> str:
        return f"http://{LOOPBACK}:{self.sendsms_port}/cgi-bin/sendsms"

    def _config(self) -> str:
        logs = self.workdir
        return f"""group = core
admin-port = {self.admin_port}
admin-interface = {LOOPBACK}
admin-password = {self.admin_password}
smsbox-port = {self.box_port}
box-allow-ip = {LOOPBACK}
dlr-storage = internal
log-file = "{logs}/bearerbox.log"
log-level = 1

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
connect-allow-ip = {LOOPBACK}

group = smsbox
bearerbox-host = {LOOPBACK}
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = {LOOPBACK}
log-file = "{logs}/smsbox.log"
log-level = 1

group = sendsms-user
username = {self.username}
password = {self.password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
text = "本号码不接收短信"
"""

    def _spawn(self, name: str, *args: str) -> None:
        with (self.workdir / f"{name}.log").open("ab") as out:
            self._procs[name] = subprocess.Popen(
                [str(self.binaries[name]), *args],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                start_new_session=True,
            )

    def _wait(self, what: str, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise InfraError(f"{name} exited with code {proc.returncode}:\n{self.logs(name)}")
            if time.monotonic() > deadline:
                raise InfraError(f"Kannel: {what} not ready within {timeout} s:\n{self.logs('bearerbox')}")
            time.sleep(0.1)

    def logs(self, name: str) -> str:
        return tail(self.workdir / f"{name}.log")

    def _smsc_online(self) -> bool:
        url = f"http://{LOOPBACK}:{self.admin_port}/status.txt?password={self.admin_password}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return "online" in response.read().decode(errors="replace").split("SMSC connections:")[-1]
        except OSError:
            return False

    def start(self, timeout: float = 30) -> None:
        """Start bearerbox, the fake SMSC client and smsbox; return once sendsms accepts requests."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self._config(), encoding="utf-8")
        try:
            self._spawn("bearerbox", str(self.config_path))
            self._wait("bearerbox", lambda: port_open(self.admin_port) and port_open(self.smsc_port), timeout)
            # -m 0: the fake handset sends no messages of its own; it only receives and logs.
            self._spawn("fakesmsc", "-H", LOOPBACK, "-r", str(self.smsc_port), "-m", "0", "1 2 text x")
            self._wait("fake SMSC", self._smsc_online, timeout)
            self.start_smsbox(timeout)
        except BaseException:
            self.stop()
            raise

    def start_smsbox(self, timeout: float = 30) -> None:
        """(Re)start smsbox, the HTTP front end; tests stop it to simulate Kannel being down."""
        if "smsbox" in self._procs and self._procs["smsbox"].poll() is None:
            return
        self._spawn("smsbox", str(self.config_path))
        self._wait("smsbox", lambda: port_open(self.sendsms_port), timeout)

    def stop_smsbox(self) -> None:
        self._terminate("smsbox")

    def _terminate(self, name: str, timeout: float = 10) -> None:
        proc = self._procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def received(self) -> list[ReceivedSms]:
        """Every message the fake SMSC has received so far."""
        try:
            return parse_fakesmsc_log(self.fakesmsc_log.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return []

    def stop(self) -> None:
        for name in ("smsbox", "fakesmsc", "bearerbox"):
            self._terminate(name)

    def close(self) -> None:
        self.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "KannelGateway":
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def start_kannel(workdir: Path | None = None) -> KannelGateway:
    """Start Kannel in `workdir` (a new temp dir, removed by close(), when None)."""
    owns = workdir is None
    where = Path(tempfile.mkdtemp(prefix="localinfra-kannel-")) if workdir is None else workdir
    gateway = KannelGateway(where, owns_workdir=owns)
    try:
        gateway.start()
    except BaseException:
        gateway.close()
        raise
    return gateway
