"""A Debian 12 container booted with its own systemd, for the system test (systemd_check.py).

Why a container and not a VM: CI is a 2-core Debian 12 machine with root and no virtualisation;
`systemd-nspawn -b` boots a real systemd as PID 1 of a minbase rootfs, which is all the kiosk's
unit needs (Type=notify, the watchdog, restarts, StateDirectory, the sandboxing).

The host is not booted with systemd and its cgroups are hybrid, so nspawn gets the unified
hierarchy forced, does not register with machined, keeps our cgroup, and is given CAP_BPF,
CAP_NET_ADMIN and CAP_PERFMON with the bpf system call: without them systemd inside cannot load
the BPF programs of IPAddressDeny= and DevicePolicy=, and silently enforces neither.

Only the stdlib is used: this runs before and outside the project's virtualenv.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

SUITE = "bookworm"
INCLUDE = ("systemd", "systemd-sysv", "dbus", "ca-certificates")
"""Minbase has no init: systemd (and dbus, which systemctl and logind expect) come in here;
ca-certificates so that the host's local CAs can be added (registry traffic is re-signed)."""
MAX_AGE_DAYS = 7.0
"""A cached rootfs older than this is built again: its apt lists go stale, and a Debian point
release removes the .debs they name."""
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CLEAN_ENV = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}
"""Commands inside start from this, not from the host's environment (whose pip and CA settings
name files that are not in the container)."""
COPY_IGNORE = (".git", ".venv", "__pycache__", "*.egg-info", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist")


class SystemTestError(Exception):
    """A step of the harness itself failed (not one of the checks): one line saying which."""


def build_rootfs(cache: Path, mirror: str, rebuild: bool = False, timeout: float = 900.0) -> tuple[Path, bool]:
    """The cached minbase rootfs (built if missing, stale or of another recipe); (path, built now).

    It is built in a temporary folder and renamed into place, so an interrupted debootstrap never
    leaves a half rootfs that a later run would take for a good one."""
    base = cache / f"{SUITE}-minbase"
    stamp = cache / f"{SUITE}-minbase.stamp"
    recipe = f"suite={SUITE} variant=minbase include={','.join(INCLUDE)} mirror={mirror}\n"
    fresh = stamp.exists() and time.time() - stamp.stat().st_mtime < MAX_AGE_DAYS * 86400
    if not rebuild and fresh and base.is_dir() and stamp.read_text() == recipe and (base / "sbin/init").exists():
        return base, False
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f"building-{os.getpid()}"
    log = cache / "debootstrap.log"
    shutil.rmtree(work, ignore_errors=True)
    command = ["debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}", SUITE, str(work), mirror]
    try:
        with log.open("w") as out:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        if done.returncode != 0:
            raise SystemTestError(f"debootstrap failed (exit {done.returncode}); the end of {log}:\n{tail(log, 15)}")
        stamp.unlink(missing_ok=True)
        shutil.rmtree(base, ignore_errors=True)
        work.rename(base)
        stamp.write_text(recipe)
    except subprocess.TimeoutExpired as exc:
        raise SystemTestError(f"debootstrap took more than {timeout:.0f} s; the end of {log}:\n{tail(log, 15)}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return base, True


def prepare_root(base: Path, root: Path, checkout: Path, target: str) -> None:
    """A throwaway copy of the base rootfs for one run, with the host's local CA certificates and
    the checkout (less its virtualenv, git data and caches) at ``target``."""
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(root)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemTestError(f"copying the rootfs failed: {done.stderr.strip()}")
    local_cas = Path("/usr/local/share/ca-certificates")
    if local_cas.is_dir():
        shutil.copytree(local_cas, root / "usr/local/share/ca-certificates", dirs_exist_ok=True)
    shutil.copytree(checkout, root / target.lstrip("/"), ignore=shutil.ignore_patterns(*COPY_IGNORE), symlinks=True)


def remove_stale_runs(workdir: Path) -> None:
    """Run folders left by a harness that was killed outright (its container died with it: see
    ``_die_with_parent``); they are a few hundred MB each."""
    if not workdir.is_dir():
        return
    for entry in workdir.glob("run-*"):
        pid = entry.name.removeprefix("run-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)


def wait_for(what: Callable[[], bool], timeout: float, every: float = 0.5) -> bool:
    """Poll ``what`` until it is true (True) or ``timeout`` seconds have passed (False): every wait is bounded."""
    deadline = time.monotonic() + timeout
    while True:
        if what():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every)


def tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text[-lines:])


def _die_with_parent() -> None:
    """In nspawn's child before exec: if the harness dies, even by SIGKILL, nspawn gets SIGTERM
    and halts the container, so CI never keeps a booted container running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


class Container:
    """One booted container: ``run`` executes a command inside (all of PID 1's namespaces) with a
    clean environment; ``stop`` halts it, bounded, and is safe to call twice."""

    def __init__(self, root: Path, name: str, log: Path) -> None:
        self.root = root
        self.name = name
        self.log = log
        self.nspawn: subprocess.Popen[bytes] | None = None
        self.pid1 = 0

    def boot(self, timeout: float = 120.0) -> str:
        """Start it and wait until its systemd has finished booting; the system state it reports."""
        command = [
            "systemd-nspawn", "-D", str(self.root), "-b", "-M", self.name, "--register=no", "--keep-unit",
            "--capability=CAP_BPF,CAP_NET_ADMIN,CAP_PERFMON", "--system-call-filter=bpf", "--console=read-only",
        ]  # fmt: skip
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        with self.log.open("wb") as out:
            self.nspawn = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, preexec_fn=_die_with_parent,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self.pid1:
            self._find_pid1()
            if self.nspawn.poll() is not None:
                raise SystemTestError(f"systemd-nspawn exited ({self.nspawn.returncode}) while booting:\n{tail(self.log, 15)}")
            if time.monotonic() > deadline:
                raise SystemTestError(f"the container's systemd did not start within {timeout:.0f} s:\n{tail(self.log, 15)}")
            time.sleep(0.2)
        while True:  # its private socket comes up a moment after PID 1 starts
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemTestError(f"the container did not finish booting within {timeout:.0f} s:\n{tail(self.log, 15)}")
            try:
                state = self.run(["systemctl", "is-system-running", "--wait"], timeout=left).stdout.strip()
            except subprocess.TimeoutExpired:
                continue
            if state in ("running", "degraded"):
                return state
            time.sleep(0.5)

    def _find_pid1(self) -> None:
        assert self.nspawn is not None
        try:
            children = Path(f"/proc/{self.nspawn.pid}/task/{self.nspawn.pid}/children").read_text().split()
        except OSError:
            return
        for child in children:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{child}/comm").read_text().strip() == "systemd":
                    self.pid1 = int(child)

    def run(
        self, command: Sequence[str], timeout: float = 60.0, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside as root; never raises for its exit status (callers look).

        ``timeout`` runs inside too: killing nsenter from outside would leave its child running in
        the container, so the command is bounded where it runs, and nsenter only as a last resort."""
        environment = [f"{key}={value}" for key, value in {**CLEAN_ENV, **(env or {})}.items()]
        bounded = ["timeout", "--kill-after=5", f"{max(timeout, 1.0):.0f}", *command]
        full = ["nsenter", "-t", str(self.pid1), "-a", "env", "-i", *environment, *bounded]
        return subprocess.run(
            full, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout + 15, errors="replace",
        )  # fmt: skip

    def stop(self, timeout: float = 30.0) -> None:
        """Halt it: SIGTERM makes nspawn ask systemd to shut down; SIGKILL to its PID 1 (which ends
        the whole PID namespace) and to nspawn if that takes too long."""
        if self.nspawn is None or self.nspawn.poll() is not None:
            return
        self.nspawn.terminate()
        try:
            self.nspawn.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            pass
        for pid in (self.pid1, self.nspawn.pid):
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        try:
            self.nspawn.wait(10)
        except subprocess.TimeoutExpired:
            print(f"systest: systemd-nspawn (pid {self.nspawn.pid}) did not exit after SIGKILL", flush=True)
