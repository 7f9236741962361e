#!/bin/sh
# Installs the real peers the end-to-end tests use, from Debian: Kannel (an independent SMPP
# implementation), PostgreSQL (the production database engine; the tests start a private cluster), Chromium (a real browser for the web portal) and a Chinese font for it. Without root (a developer's laptop) it says what is missing and goes on;
# the tests that need a missing peer skip with the reason. CI runs as root and installs them.
set -u
missing=""
command -v bearerbox >/dev/null 2>&1 || missing="$missing kannel"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$missing fonts-wqy-microhei"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "note: not root, not installing:$missing (the tests needing them will skip)"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null \
    || echo "warning: could not install:$missing (the tests needing them will skip)"
exit 0
