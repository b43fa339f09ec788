# Shared by scripts/test.sh and scripts/demo.sh: a virtual environment with the package installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_ready=""
apt_install() {
  [ -n "$apt_ready" ] || { as_root apt-get update -qq || return 1; apt_ready=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}
if [ ! -x .venv/bin/python ]; then
  # Debian ships venv separately from python3.
  "$PY" -m venv .venv 2>/dev/null || { apt_install python3-venv && rm -rf .venv && "$PY" -m venv .venv; }
fi
# pip's and setuptools' chatter goes to a log, shown only when the install fails.
pip_log="$(mktemp)"
if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".[test]"; } \
     >"$pip_log" 2>&1; then
  cat "$pip_log" >&2
  echo "Installing the package failed (log above)." >&2
  exit 1
fi
rm -f "$pip_log"
