#!/usr/bin/env bash
# Install coach as a kiosk service on Raspberry Pi OS (run as root from a checkout of the repo):
#   sudo systemd/install.sh
# It creates the system user "coach" (groups audio, gpio), installs the code into /opt/coach with
# its own virtualenv, writes /etc/coach/config.yaml if there is none, installs the unit and
# starts it. Safe to run again to update.
set -euo pipefail
if [ "$(id -u)" != "0" ]; then echo "install.sh: run as root (sudo systemd/install.sh)" >&2; exit 2; fi
src="$(cd "$(dirname "$0")/.." && pwd)"
prefix=/opt/coach

apt-get install -y -qq python3-venv espeak-ng alsa-utils >/dev/null
getent group gpio >/dev/null || groupadd --system gpio
id coach >/dev/null 2>&1 || useradd --system --home-dir /var/lib/coach --no-create-home --shell /usr/sbin/nologin coach
usermod -a -G audio,gpio coach

mkdir -p "$prefix"
rsync -a --delete --exclude .venv --exclude .git "$src/" "$prefix/src/" 2>/dev/null || { rm -rf "$prefix/src"; cp -a "$src" "$prefix/src"; rm -rf "$prefix/src/.venv" "$prefix/src/.git"; }
[ -x "$prefix/.venv/bin/python" ] || python3 -m venv "$prefix/.venv"
"$prefix/.venv/bin/pip" install -q "$prefix/src[all]"

install -d -m 0755 /etc/coach
if [ ! -e /etc/coach/config.yaml ]; then
  cat > /etc/coach/config.yaml <<'YAML'
# coach kiosk settings; `coach config` shows every setting and where it came from.
controls:
  layout: one-button
YAML
fi
install -m 0644 "$prefix/src/systemd/coach.service" /etc/systemd/system/coach.service
systemctl daemon-reload
systemctl enable --now coach.service
systemctl --no-pager status coach.service | head -5 || true
echo "coach: installed. Logs: journalctl -u coach -f; check the hardware with: sudo -u coach $prefix/.venv/bin/coach doctor"
