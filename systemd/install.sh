#!/usr/bin/env bash
# Install coach as a kiosk service on Raspberry Pi OS or Debian 12 (run as root from a checkout):
#
#   sudo systemd/install.sh               install, or update: the service is restarted on the new code
#   sudo systemd/install.sh --no-start    install and enable, but do not start it now
#   sudo systemd/install.sh --uninstall   remove the service, the user "coach" and /opt/coach;
#                                         the session log in /var/lib/coach and /etc/coach are kept
#   sudo systemd/install.sh --uninstall --purge   ... and remove /var/lib/coach, /var/cache/coach, /etc/coach
#   sudo systemd/install.sh --sync        also install coach-sync.service (clinic sync over MQTT); it is
#                                         installed anyway when /etc/coach/config.yaml has a `sync:` section
#
# What it does: apt-get update, then installs python3-venv, espeak-ng and alsa-utils (and on arm64 or
# a Raspberry Pi: libatomic1, which vosk's native library needs); creates the system user "coach"
# (groups audio, gpio); copies the code to /opt/coach/src and installs it into its own virtualenv
# /opt/coach/.venv (on arm64 or a Pi with lgpio, gpiozero's pin library for every Pi incl. the Pi 5);
# writes /etc/coach/config.yaml if there is none; installs systemd/coach.service; enables it and
# (re)starts it. Running it again is safe: it updates the code and restarts the service.
#
# For scripts and test harnesses (e.g. inside a container booted with systemd-nspawn): it never
# prompts, exits non-zero with one line saying what failed, and reads these environment variables
# (sudo drops them unless kept: `sudo env PIP_INDEX_URL=... systemd/install.sh`):
#   PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST, PIP_CERT   read by pip itself: a package index
#                                     mirror and a CA bundle for it
#   COACH_PIP_ARGS                    more arguments for every `pip install` (e.g. "--no-index --find-links /wheels")
#   COACH_SKIP_APT=1                  do not run apt-get (the packages are there already, or no network)
#   COACH_NO_START=1                  the same as --no-start (e.g. where systemd is not running)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
trap 'echo "install.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

prefix=/opt/coach
unit=/etc/systemd/system/coach.service
sync_unit=/etc/systemd/system/coach-sync.service
sync=no
mode=install
purge=no
start=yes
[ "${COACH_NO_START:-}" = "1" ] && start=no
for arg in "$@"; do
  case "$arg" in
    --uninstall) mode=uninstall ;;
    --purge) purge=yes ;;
    --no-start) start=no ;;
    --sync) sync=yes ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$purge" = yes ] && [ "$mode" != uninstall ]; then echo "install.sh: --purge goes with --uninstall" >&2; exit 2; fi
if [ "$(id -u)" != "0" ]; then echo "install.sh: run as root (sudo systemd/install.sh)" >&2; exit 2; fi

systemd_running() { [ -d /run/systemd/system ]; }

if [ "$mode" = uninstall ]; then
  if systemd_running; then
    systemctl disable --now coach.service 2>/dev/null || true
    systemctl disable --now coach-sync.service 2>/dev/null || true
  fi
  rm -f "$unit" "$sync_unit"
  if systemd_running; then systemctl daemon-reload; systemctl reset-failed coach.service 2>/dev/null || true; fi
  if id coach >/dev/null 2>&1; then userdel coach; fi
  getent group coach >/dev/null && groupdel coach
  rm -rf "$prefix"
  if [ "$purge" = yes ]; then
    rm -rf /var/lib/coach /var/lib/private/coach /var/cache/coach /var/cache/private/coach /etc/coach
    echo "coach: removed, with its session log and config."
  else
    echo "coach: removed; the session log in /var/lib/coach and the config in /etc/coach are kept (--purge removes them)."
  fi
  exit 0
fi

src="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$src/pyproject.toml" ] && [ -f "$src/systemd/coach.service" ] || { echo "install.sh: $src is not a coach checkout" >&2; exit 2; }
arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"
model="$(tr -d '\0' 2>/dev/null < /proc/device-tree/model || true)"
on_arm=no
case "$arch" in arm64|aarch64|armhf|armv7l) on_arm=yes ;; esac
case "$model" in "Raspberry Pi"*) on_arm=yes ;; esac

if [ "${COACH_SKIP_APT:-}" != "1" ]; then
  packages=(python3-venv espeak-ng alsa-utils)
  [ "$on_arm" = yes ] && packages+=(libatomic1)
  apt-get update -qq || { echo "install.sh: apt-get update failed (no network, or a broken sources.list?)" >&2; exit 1; }
  apt-get install -y -qq "${packages[@]}" >/dev/null || { echo "install.sh: apt-get install ${packages[*]} failed" >&2; exit 1; }
fi

getent group gpio >/dev/null || groupadd --system gpio
id coach >/dev/null 2>&1 || useradd --system --home-dir /var/lib/coach --no-create-home --shell /usr/sbin/nologin coach
usermod -a -G audio,gpio coach

mkdir -p "$prefix"
rm -rf "$prefix/src.new"
mkdir -p "$prefix/src.new"
tar -C "$src" --exclude=./.venv --exclude=./.git --exclude='*/__pycache__' -cf - . | tar -C "$prefix/src.new" -xf -
rm -rf "$prefix/src"
mv "$prefix/src.new" "$prefix/src"
[ -x "$prefix/.venv/bin/python" ] || python3 -m venv "$prefix/.venv"
read -r -a pip_args <<< "${COACH_PIP_ARGS:-}"
pip=("$prefix/.venv/bin/pip" install -q --disable-pip-version-check "${pip_args[@]}")
"${pip[@]}" --upgrade "$prefix/src[all]" || { echo "install.sh: pip could not install coach (see above; a package index or CA bundle: see the top of install.sh)" >&2; exit 1; }
if [ "$on_arm" = yes ]; then
  # gpiozero's best pin library, and the only one for a Pi 5; a wheel exists for arm64.
  "${pip[@]}" lgpio || echo "install.sh: warning: lgpio could not be installed; the buttons use gpiozero's fallback pins (hardware.md)" >&2
fi

install -d -m 0755 /etc/coach
if [ ! -e /etc/coach/config.yaml ]; then
  cat > /etc/coach/config.yaml <<'YAML'
# coach kiosk settings; `coach config` shows every setting and where it came from.
controls:
  layout: one-button
YAML
fi
install -m 0644 "$prefix/src/systemd/coach.service" "$unit"
# Clinic sync (issue 16): its own unit, with the network the kiosk does not have.
grep -q '^sync:' /etc/coach/config.yaml && sync=yes
[ "$sync" = yes ] && install -m 0644 "$prefix/src/systemd/coach-sync.service" "$sync_unit"
if ! systemd_running; then
  echo "coach: installed; systemd is not running here, so the service was not enabled or started."
  exit 0
fi
systemctl daemon-reload
systemctl enable coach.service >/dev/null 2>&1
if [ "$sync" = yes ]; then systemctl enable coach-sync.service >/dev/null 2>&1; fi
if [ "$start" = yes ]; then
  systemctl restart coach.service  # a re-install runs the new code
  if [ "$sync" = yes ]; then systemctl restart coach-sync.service; fi
  systemctl --no-pager status coach.service | head -5 || true
fi
echo "coach: installed. Logs: journalctl -u coach -f; check the hardware with: sudo -u coach $prefix/.venv/bin/coach doctor"
