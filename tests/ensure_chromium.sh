#!/bin/sh
# Called by `make test` before the suite: the dashboard tests drive Debian's chromium package
# through Playwright (no browser download). Install it when it is missing and we may; otherwise
# say plainly which tests will not run.
command -v chromium >/dev/null 2>&1 && exit 0
[ -n "$BRICKYARD_CHROMIUM" ] && [ -x "$BRICKYARD_CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "make test: installing chromium for the dashboard tests (apt-get install -y chromium)"
    export DEBIAN_FRONTEND=noninteractive
    if apt-get install -y -q chromium >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; then
        exit 0
    fi
    echo "make test: apt-get could not install chromium"
fi
echo "make test: chromium is not installed (and cannot be installed here: that needs root and"
echo "apt-get), so the dashboard tests in tests/acceptance/test_dashboard.py will be skipped."
echo "Install it with 'sudo apt-get install -y chromium', or set BRICKYARD_CHROMIUM to a Chromium binary."
exit 0
