#!/bin/sh
# Install Go and golang.org/x/mod (Debian packages) for the Go interop check
# (tests/interop), only if they are missing. Idempotent; quiet; non-zero on failure.
set -eu

XMOD=/usr/share/gocode/src/golang.org/x/mod/sumdb

if command -v go >/dev/null 2>&1 && [ -f "$XMOD/note/note.go" ] && [ -f "$XMOD/tlog/tile.go" ]; then
    exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
PKGS="golang-go golang-golang-x-mod-dev"

# Refresh the package lists only when the packages cannot be found without it.
if ! apt-cache show $PKGS >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null

command -v go >/dev/null 2>&1 || { echo "install-go.sh: go still missing" >&2; exit 1; }
[ -f "$XMOD/tlog/tile.go" ] || { echo "install-go.sh: x/mod sources still missing" >&2; exit 1; }
