#!/usr/bin/env python3
"""System test on a real systemd (issue 13): the kiosk installed by its own systemd/install.sh into a
booted Debian 12 minbase container, with no sound card, no GPIO, no microphone and no speech model.

    sudo python3 tests/system/systemd_check.py [--keep] [--rebuild]

Five checks, one PASS/FAIL line each, exit 1 if any fails (2 if the harness itself could not run):
  1 ready          Type=notify: systemd got READY=1 and a status text
  2 stays up       still running, same PID, no restart, 40 s later, with no input device at all
  3 watchdog       a hung kiosk (SIGSTOP) is killed by the watchdog and restarted, active again
  4 stop recorded  `systemctl stop` in the middle of a session: `coach history` says `stopped`
  5 clinic sync    coach-sync.service sends that log to a real Mosquitto; the clinic store files each record once

The file name is not test_*.py on purpose: the unit suite's pytest must not collect this (it needs
root, a network to Debian's mirror and PyPI, and about four minutes). `.ci/run` runs it after the
unit tests. Every wait is bounded; the container is halted on any exit, Ctrl-C or SIGTERM included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from container import Container, SystemTestError, build_rootfs, prepare_root, remove_stale_runs, tail, wait_for  # noqa: E402
from sync_check import check_sync  # noqa: E402

CHECKOUT = Path(__file__).resolve().parents[2]
SRC = "/root/coach-src"
UNIT = "coach.service"
UNIT_FILE = "/etc/systemd/system/coach.service"
DROPIN_DIR = "/etc/systemd/system/coach.service.d"
STATE_DIR = "/var/lib/coach"
STAY_UP_SECONDS = 40.0
SESSION_SCRIPT = "3 start\n6 rating 1\n13 no\n20 no\n27 no\n34 no\n41 no\n75 rating 2\n"
"""Wake the kiosk; choose the menu's first routine; answer no to each of the five red-flag questions (each
after it is asked: 11.5, 13, 20, 27, 34 s); answer the pain question before the exercises (asked at 72.5 s)."""
CHECKS = ("1 ready", "2 stays up", "3 watchdog", "4 stop recorded", "5 clinic sync")
PROPS = ("ActiveState", "SubState", "StatusText", "NRestarts", "MainPID", "Result", "ExecMainStatus")
PASS_THROUGH = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT",
                "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")  # fmt: skip
"""Host settings install.sh may need inside (the container shares the host's network)."""


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop like Ctrl-C, through the same cleanup."""


@dataclass
class Report:
    results: list[tuple[str, bool, str]] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.results.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings.append((name, time.monotonic() - started))


def info(text: str) -> None:
    print(f"      {text}", flush=True)


def show(c: Container) -> dict[str, str]:
    done = c.run(["systemctl", "show", "-p", ",".join(PROPS), UNIT], timeout=20)
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def state(p: dict[str, str]) -> str:
    text = f"{p.get('ActiveState')} ({p.get('SubState')}), MainPID={p.get('MainPID')}, NRestarts={p.get('NRestarts')}"
    return text + (f", status '{p['StatusText']}'" if p.get("StatusText") else ", no status text")


def journal(c: Container, since: float | None = None, lines: int = 25) -> str:
    """The unit's journal, without the lines ALSA's library prints each time it finds no card."""
    command = ["journalctl", "--no-pager", "-o", "short-monotonic", "-u", UNIT]
    if since is not None:
        command += ["--since", f"@{since:.0f}"]
    text = [line for line in c.run(command, timeout=20).stdout.splitlines() if "ALSA lib" not in line]
    return "\n".join("    " + line for line in text[-lines:])


def exec_start(c: Container) -> list[str]:
    """The installed unit's command line, so the drop-ins add to whatever install.sh installed."""
    text = c.run(["cat", UNIT_FILE], timeout=10).stdout
    lines = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart=")]
    if not lines:
        raise SystemTestError(f"{UNIT_FILE} has no ExecStart=")
    return shlex.split(lines[-1])


def must(c: Container, command: list[str], timeout: float = 30.0, stdin: str | None = None) -> str:
    """A harness step that has to work (writing a drop-in, daemon-reload, sending a signal)."""
    done = c.run(command, timeout=timeout, stdin=stdin)
    if done.returncode != 0:
        raise SystemTestError(f"`{shlex.join(command)}` in the container failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def set_dropin(c: Container, name: str, extra: list[str] | None, script: str = "") -> None:
    """Add (or with ``extra=None`` remove) a drop-in that appends ``extra`` to ExecStart; the input
    script goes to /etc/coach, which the sandboxed service can read."""
    path = f"{DROPIN_DIR}/{name}.conf"
    if extra is None:
        must(c, ["rm", "-f", path, f"/etc/coach/{name}.txt"])
    else:
        must(c, ["install", "-D", "-m", "0644", "/dev/stdin", f"/etc/coach/{name}.txt"], stdin=script)
        command = " ".join(shlex.quote(word) for word in [*exec_start(c), "--input-script", f"/etc/coach/{name}.txt", *extra])
        unit = f"[Service]\nExecStart=\nExecStart={command}\n"
        must(c, ["install", "-D", "-m", "0644", "/dev/stdin", path], stdin=unit)
    must(c, ["systemctl", "daemon-reload"])


def restart(c: Container) -> dict[str, str]:
    """Restart it afresh (start-limit counter cleared: the checks restart it on purpose)."""
    c.run(["systemctl", "reset-failed", UNIT], timeout=20)
    c.run(["systemctl", "restart", UNIT], timeout=120)
    return show(c)


# --- the four checks ------------------------------------------------------------------------------


def check_ready(c: Container, report: Report) -> dict[str, str]:
    """install.sh's `enable --now` returns once READY=1 came (Type=notify). Whether it then stays is
    check 2; here: did systemd take it as started, with the status the kiosk sent."""
    kind = c.run(["systemctl", "show", "-p", "Type", "--value", UNIT], timeout=20).stdout.strip()
    seen: dict[str, str] = {}

    def settled() -> bool:
        seen.update(show(c))
        return seen.get("ActiveState") not in ("activating", "reloading", None)

    wait_for(settled, 120)
    entered = c.run(["systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", "--value", UNIT], timeout=20).stdout.strip()
    became_active = entered.isdigit() and int(entered) > 0
    running = seen.get("ActiveState") == "active" and seen.get("SubState") == "running"
    ok = kind == "notify" and became_active and bool(seen.get("StatusText"))
    detail = f"Type={kind}, {state(seen)}"
    if ok and not running:
        detail += " (it was READY, then left: see check 2)"
    report.check("1 ready", ok, detail)
    if not ok:
        print(journal(c), flush=True)
    return seen


def check_stays_up(c: Container, report: Report, ready: dict[str, str]) -> None:
    """No GPIO, no microphone, no model, stdin /dev/null: 40 s later the same process still runs."""
    devices = c.run(["sh", "-c", "ls -d /dev/snd /dev/gpiochip* /dev/gpiomem 2>/dev/null"], timeout=10).stdout.split()
    majors = [m.strip() for m in c.run(["sh", "-c", "grep -E ' (alsa|gpiochip)$' /proc/devices"], timeout=10).stdout.splitlines()]
    info(f"input devices in the container: {', '.join(devices) or 'none'}; "
         f"kernel device majors for ALSA/GPIO: {', '.join(majors) or 'none on this kernel'}")  # fmt: skip
    pid = ready.get("MainPID", "0")
    if pid != "0":
        stdin = c.run(["readlink", f"/proc/{pid}/fd/0"], timeout=10).stdout.strip()
        info(f"the kiosk's stdin: {stdin or '?'}")
    started = time.monotonic()
    now: dict[str, str] = {}

    def gone() -> bool:
        now.update(show(c))
        return now.get("ActiveState") != "active" or now.get("MainPID") != pid or now.get("NRestarts") != ready.get("NRestarts")

    if pid == "0" or wait_for(gone, STAY_UP_SECONDS, every=1.0):
        after = time.monotonic() - started
        detail = f"not the same running kiosk {after:.0f} s after READY: {state(now or ready)}"
        if now.get("Result"):
            detail += f", Result={now['Result']}, exit status {now.get('ExecMainStatus')}"
        report.check("2 stays up", False, detail)
        print(journal(c), flush=True)
    else:
        report.check("2 stays up", True, f"{STAY_UP_SECONDS:.0f} s later: {state(now)}")


def check_watchdog(c: Container, report: Report) -> None:
    """SIGSTOP the main process: after WatchdogSec systemd kills it and Restart= brings it back."""
    before = show(c)
    if before.get("ActiveState") != "active":
        info("the kiosk is not running by itself (check 2); held up with an input script whose one line is an hour ahead")
        set_dropin(c, "systest-hold", [], script="3600 start\n")
        before = restart(c)
    pid, restarts = before.get("MainPID", "0"), before.get("NRestarts", "0")
    usec = c.run(["systemctl", "show", "-p", "WatchdogUSec", "--value", UNIT], timeout=20).stdout.strip()
    if before.get("ActiveState") != "active" or pid == "0":
        report.check("3 watchdog", False, f"could not get a running kiosk to hang: {state(before)}")
        print(journal(c), flush=True)
        return
    stopped_at = time.time()
    started = time.monotonic()
    must(c, ["sh", "-c", f"kill -STOP {pid}"])  # the shell's kill: minbase has no procps

    def hung() -> bool:
        return c.run(["grep", "-q", "^State:.*stopped", f"/proc/{pid}/status"], timeout=10).returncode == 0

    info(f"SIGSTOP sent to MainPID {pid} ({'stopped' if wait_for(hung, 5, every=0.1) else 'NOT stopped'}); WatchdogUSec={usec}")
    now: dict[str, str] = {}
    killed_after: list[float] = []

    def back() -> bool:
        now.update(show(c))
        if not killed_after and now.get("MainPID") != pid:
            killed_after.append(time.monotonic() - started)
        return (
            now.get("ActiveState") == "active" and now.get("SubState") == "running"
            and now.get("MainPID") not in ("0", pid) and int(now.get("NRestarts", "0")) > int(restarts)
        )  # fmt: skip

    limit = _seconds(usec) + 90  # watchdog, then SIGABRT -> exit (or SIGKILL after TimeoutAbortSec), RestartSec, start
    ok = wait_for(back, limit, every=1.0)
    since = ["--since", f"@{stopped_at - 1:.0f}"]
    said = c.run(["journalctl", "--no-pager", "-o", "cat", "-u", UNIT, *since], timeout=20).stdout.splitlines()
    timed_out = any("Watchdog timeout" in line for line in said)
    for line in said:
        if re.search(r"Watchdog|signal|Main process exited|Scheduled restart|Failed with result", line):
            info(f"journal: {line.strip()}")
    again = time.monotonic() - started
    kill = f"killed after {killed_after[0]:.0f} s" if killed_after else "never killed"
    detail = f"{kill}, {'journal says Watchdog timeout' if timed_out else 'no watchdog timeout in the journal'}; "
    detail += f"after {again:.0f} s: {state(now)} (NRestarts was {restarts})"
    report.check("3 watchdog", ok and timed_out, detail)
    if not (ok and timed_out):
        print(journal(c, since=stopped_at - 1), flush=True)


def check_stop_recorded(c: Container, report: Report) -> None:
    """A session under way (started by an input script, as the service has no input device), then
    `systemctl stop` during its first exercise: the log must close it as stopped, not leave it open
    or interrupted. The script wakes the kiosk, picks the menu's first routine, answers the red-flag
    screen (every kiosk session is screened) and the first pain question, so the exercises start
    without a minute of waiting for that question to go unanswered."""
    events = f"{STATE_DIR}/systest-events.jsonl"
    set_dropin(c, "systest-hold", None)
    set_dropin(c, "systest-session", ["--events", events], script=SESSION_SCRIPT)
    c.run(["rm", "-f", events], timeout=10)
    restart(c)
    seen: list[dict[str, object]] = []

    def session_under_way() -> bool:
        seen[:] = _events(c, events)
        logged = any(e.get("type") == "logged" and e.get("kind") == "session" for e in seen)
        ended = any(e.get("type") in ("end", "session_end") for e in seen)
        return logged and not ended and any(e.get("type") == "state" and e.get("state") == "exercise" for e in seen)

    if not wait_for(session_under_way, 120):
        last = ", ".join(str(e.get("type")) for e in seen[-8:]) or "none"
        report.check("4 stop recorded", False, f"no exercise under way within 120 s (last events: {last}); {state(show(c))}")
        print(journal(c), flush=True)
        return
    routine = next((str(e.get("routine")) for e in seen if e.get("type") == "session"), "?")
    started = time.monotonic()
    stop = c.run(["systemctl", "stop", UNIT], timeout=60)
    took = time.monotonic() - started
    after = show(c)
    info(f"session of {routine} in its first exercise; `systemctl stop` took {took:.1f} s (exit {stop.returncode}): "
         f"{after.get('ActiveState')}, Result={after.get('Result')}, exit status {after.get('ExecMainStatus')}")  # fmt: skip
    end = [e for e in _events(c, events) if e.get("type") == "end"]
    info(f"the kiosk's last end event: {end[-1] if end else 'none'}")
    coach = exec_start(c)[0].lstrip("-@:+!")
    history = c.run(["runuser", "-u", "coach", "--", coach, "history", "--state-dir", STATE_DIR], timeout=60)
    rows = [line for line in history.stdout.splitlines()[1:] if line.strip()]
    words = rows[-1].split() if rows else []
    status = words[3] if len(words) > 3 else "?"
    ok = history.returncode == 0 and status == "stopped" and routine[:18] in rows[-1]
    shown = rows[-1] if rows else (history.stdout + history.stderr).strip() or "(nothing)"
    report.check("4 stop recorded", ok, f"coach history shows status '{status}': {shown}")
    if not ok:
        print(journal(c), flush=True)


def _events(c: Container, path: str) -> list[dict[str, object]]:
    found = []
    for line in c.run(["cat", path], timeout=10).stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the line being written
        if isinstance(event, dict):
            found.append(event)
    return found


def _seconds(systemd_span: str) -> float:
    """'30s', '1min 30s', '500ms' -> seconds (the form systemctl show prints)."""
    units = {"min": 60.0, "ms": 0.001, "us": 1e-6, "h": 3600.0, "s": 1.0}
    total = sum(float(number) * units[unit] for number, unit in re.findall(r"([\d.]+)(min|ms|us|h|s)", systemd_span))
    return total or 30.0


# --- the run --------------------------------------------------------------------------------------


def install(c: Container, report: Report, log: Path) -> bool:
    bundle = "/etc/ssl/certs/ca-certificates.crt"  # with the host's local CAs added (update-ca-certificates at boot)
    env = {"DEBIAN_FRONTEND": "noninteractive", "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_CERT": bundle, "REQUESTS_CA_BUNDLE": bundle}  # fmt: skip
    env.update({key: os.environ[key] for key in PASS_THROUGH if os.environ.get(key, "").strip()})
    done = c.run(["bash", f"{SRC}/systemd/install.sh"], timeout=900, env=env)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        print(f"systest: systemd/install.sh failed (exit {done.returncode}); the end of its output ({log}):", flush=True)
        print(tail(log, 25), flush=True)
        return False
    return True


def run(args: argparse.Namespace, report: Report) -> None:
    workdir = Path(args.workdir)
    remove_stale_runs(workdir)
    with report.timed("rootfs"):
        base, built = build_rootfs(Path(args.cache), args.mirror, rebuild=args.rebuild)
    how = "built with debootstrap" if built else "cached"
    print(f"systest: rootfs {base} ({how}) in {report.timings[-1][1]:.1f} s", flush=True)
    run_dir = workdir / f"run-{os.getpid()}"
    c = Container(run_dir / "root", f"coach-systest-{os.getpid()}", run_dir / "nspawn.log")
    try:
        with report.timed("copy"):
            prepare_root(base, c.root, CHECKOUT, SRC)
        with report.timed("boot"):
            booted = c.boot()
            c.run(["update-ca-certificates"], timeout=120)
        print(f"systest: container {c.name} booted ({booted}), PID 1 is {c.pid1} on the host", flush=True)
        with report.timed("install"):
            installed = install(c, report, run_dir / "install.log")
        print(f"systest: systemd/install.sh {'done' if installed else 'FAILED'} in {report.timings[-1][1]:.1f} s", flush=True)
        if not installed:
            for name in CHECKS:
                report.check(name, False, "not run: systemd/install.sh failed")
            return
        with report.timed("check 1 ready"):
            ready = check_ready(c, report)
        with report.timed("check 2 stays up"):
            check_stays_up(c, report, ready)
        with report.timed("check 3 watchdog"):
            check_watchdog(c, report)
        with report.timed("check 4 stop recorded"):
            check_stop_recorded(c, report)
        with report.timed("check 5 clinic sync"):
            check_sync(c, report, CHECKOUT, lambda: install(c, report, run_dir / "install-sync.log"), info)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # the cleanup is bounded; let it finish
        with report.timed("halt"):
            c.stop()
        if args.keep:
            print(f"systest: kept {run_dir} (rootfs, nspawn.log, install.log)", flush=True)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    cache = os.environ.get("COACH_SYSTEST_CACHE", "/var/cache/coach-systest")
    parser.add_argument("--cache", default=cache, help="where the base rootfs is kept (rebuilt after a week)")
    parser.add_argument("--workdir", default="/var/tmp/coach-systest", help="where each run's copy of the rootfs goes")
    parser.add_argument("--mirror", default=os.environ.get("COACH_SYSTEST_MIRROR", "http://deb.debian.org/debian"))
    parser.add_argument("--rebuild", action="store_true", help="debootstrap again even if the cached rootfs is fresh")
    parser.add_argument("--keep", action="store_true", help="keep this run's rootfs and logs (the container is halted anyway)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("systest: needs root (debootstrap, systemd-nspawn, nsenter)", file=sys.stderr)
        return 2
    missing = [tool for tool in ("debootstrap", "systemd-nspawn", "nsenter") if not _which(tool)]
    if missing:
        print(f"systest: missing {', '.join(missing)}: apt-get install debootstrap systemd-container", file=sys.stderr)
        return 2

    def interrupted(signum: int, _frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    report = Report()
    started = time.monotonic()
    code = 0
    try:
        run(args, report)
    except SystemTestError as exc:
        print(f"systest: ERROR {exc}", flush=True)
        code = 2
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"systest: interrupted ({str(exc) or 'SIGINT'}); the container is halted", flush=True)
        code = 130
    total = time.monotonic() - started
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.timings)
    print(f"systest: timings: {timings}; whole run {total:.1f} s", flush=True)
    failed = [name for name, ok, _ in report.results if not ok]
    if code == 0:
        code = 1 if failed or len(report.results) < len(CHECKS) else 0
    verdict = f"all {len(CHECKS)} checks passed" if code == 0 else f"FAILED: {', '.join(failed) or 'the harness did not finish'}"
    if code == 130:
        verdict = f"interrupted after {len(report.results)} of {len(CHECKS)} checks ({len(failed)} failed)"
    print(f"systest: systemd system test {verdict}", flush=True)
    return code


def _which(tool: str) -> bool:
    folders = [*os.environ.get("PATH", "").split(":"), "/usr/sbin", "/sbin"]
    return any(os.access(os.path.join(folder, tool), os.X_OK) for folder in folders)


if __name__ == "__main__":
    sys.exit(main())
