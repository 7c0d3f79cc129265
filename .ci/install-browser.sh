#!/bin/sh
# Install what the notice and browser tests need, from Debian's packages, only if missing:
# Chromium (headless browser tests), poppler-utils (pdftoppm renders the notice to PNG),
# Noto CJK fonts (Chinese in the PDF and the screenshots) and Pango (WeasyPrint).
# Idempotent; quiet; non-zero on failure.
set -eu

if command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 \
    && fc-list 2>/dev/null | grep -q "Noto Sans CJK" \
    && ldconfig -p | grep -q libpangoft2-1.0; then
    exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
PKGS="chromium poppler-utils fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0"

if ! apt-cache show $PKGS >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null

command -v chromium >/dev/null 2>&1 || { echo "install-browser.sh: chromium still missing" >&2; exit 1; }
command -v pdftoppm >/dev/null 2>&1 || { echo "install-browser.sh: pdftoppm still missing" >&2; exit 1; }
