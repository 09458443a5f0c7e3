#!/bin/sh
# Install the system Chromium and its driver that the browser tests drive with Playwright.
# Playwright's own browser download needs hosts this project does not reach, so the tests point
# Playwright at Debian's `chromium` (see tests/site_browser.py). A no-op when both are present.
set -eu
have() { command -v "$1" >/dev/null 2>&1; }
if have chromium && have chromedriver; then
  exit 0
fi
if ! have apt-get; then
  echo "error: chromium is missing and apt-get is not available; install Chromium and chromedriver" \
       "with your system's package manager, or set INSTEP_CHROMIUM to a Chromium executable" >&2
  exit 2
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then
    SUDO="sudo"
  else
    echo "error: installing chromium needs root (or sudo); run as root: apt-get install chromium chromium-driver" >&2
    exit 2
  fi
fi
echo "Installing chromium and chromium-driver with apt-get ..."
if ! $SUDO apt-get update -q || \
   ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver; then
  echo "error: could not install chromium with apt-get (no network or no package lists?);" \
       "the browser tests need it" >&2
  exit 2
fi
chromium --version
