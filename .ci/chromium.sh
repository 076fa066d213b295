#!/usr/bin/env bash
# Best effort: Debian's chromium at /usr/bin/chromium for the browser tests (Playwright drives it; it
# never downloads a browser of its own). Needs root and apt-get; package lists are refreshed only if
# the install fails without. Says why on stderr if it cannot; the browser tests then skip (or, in CI, fail).
set -u
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium not found and cannot install it here (needs root and apt-get): the browser tests will skip" >&2
  exit 0
fi
echo "installing Debian's chromium for the browser tests (once)" >&2
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }
install || { apt-get update -qq >/dev/null 2>&1 && install; } \
  || echo "could not install chromium with apt-get: the browser tests will skip" >&2
exit 0
