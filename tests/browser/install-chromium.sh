#!/usr/bin/env bash
# Make sure the browser tests have a Chromium to drive (called by `make test-browser`).
#
# Playwright's own browser download does not work on our machines, so the tests drive Debian's
# `chromium` (found on PATH, or $CHROMIUM). As root with apt-get it is installed here, with
# fonts-dejavu-core so that text renders; otherwise this says how to get it, and then
#   REQUIRE_BROWSER=1 (CI): fails, so a run without a browser can never pass unnoticed;
#   otherwise: exits 0, and pytest skips the browser tests with the same message.
set -euo pipefail

packages="chromium fonts-dejavu-core"
how="sudo apt-get install -y $packages  (Debian/Ubuntu), or set CHROMIUM=/path/to/chromium"

if [ -n "${CHROMIUM:-}" ]; then
    command -v "$CHROMIUM" >/dev/null && exit 0
    echo "CHROMIUM=$CHROMIUM is not an executable." >&2
    exit 1
fi

missing=""
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing=" chromium"
if command -v dpkg >/dev/null && ! dpkg -s fonts-dejavu-core >/dev/null 2>&1; then
    missing="$missing fonts-dejavu-core"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install-chromium: installing$missing with apt-get (about 1.5 min) ..."
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086  # $missing is a list of package names
    apt-get install -y -q $missing || { apt-get update -q && apt-get install -y -q $missing; }
    exit 0
fi

if [ "$missing" = " fonts-dejavu-core" ]; then
    echo "install-chromium: fonts-dejavu-core is missing; text may render in a fallback font ($how)." >&2
    exit 0
fi
if [ "${REQUIRE_BROWSER:-0}" != "0" ] && [ -n "${REQUIRE_BROWSER:-}" ]; then
    echo "install-chromium: REQUIRE_BROWSER is set and there is no Chromium, and no root to install it: $how" >&2
    exit 1
fi
echo "install-chromium: no Chromium, so the browser tests will be skipped. To run them: $how" >&2
