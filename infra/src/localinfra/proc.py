"""Process helpers shared by the Kafka and PostgreSQL launchers."""

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from localinfra.errors import InfraError

_PR_SET_PDEATHSIG = 1


def tail(path: Path, lines: int = 60) -> str:
    """The last `lines` lines of a log file, or a note that it is missing."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def run_checked(
    cmd: Sequence[str],
    *,
    what: str,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a short command; raise InfraError with its output when it fails or hangs."""
    try:
        done = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InfraError(f"{what} did not finish within {timeout} s: {' '.join(cmd)}") from exc
    except OSError as exc:
        raise InfraError(f"{what} could not run ({exc}): {' '.join(cmd)}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-4000:]
        raise InfraError(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{output}")
    return done


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this child when the process that spawned it dies.

    Used as Popen(preexec_fn=...) so a crashed or SIGKILLed pytest does not leave a broker
    holding ports and memory. Linux ties this to the spawning *thread*, so spawn from a
    long-lived thread (the main thread in pytest and the CLI).
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def pid_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped by a foreign parent) is dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may itself contain spaces.
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def wait_pid_gone(pid: int, timeout: float, *, reaped: bool = False) -> bool:
    """Poll until `pid` has exited (and, with `reaped`, its zombie is gone too).

    Returns False if that has not happened after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() if reaped else pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def signal_pid(pid: int, sig: signal.Signals) -> None:
    """Send a signal, ignoring a process that has already gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
