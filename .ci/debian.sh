#!/usr/bin/env bash
# Best effort: the Debian packages Doorstep uses beside Python and npm, once (default: both).
#   .ci/debian.sh [chromium] [tilemaker]
#   chromium   at /usr/bin/chromium, for the browser tests (Playwright drives it; it never downloads one)
#   tilemaker  builds the recipient's page's street map from an OpenStreetMap extract (bot/tiles)
# Needs root and apt-get; package lists are refreshed only if the install fails without. Says on stderr
# what it cannot install; the browser tests then skip (or, in CI, fail) and the page has no map.
set -u
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(chromium tilemaker)
missing=()
for package in "${wanted[@]}"; do
  case "$package" in
    chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    tilemaker) command -v tilemaker >/dev/null 2>&1 || missing+=(tilemaker) ;;
    *) echo "unknown package $package" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "not found and cannot install here (needs root and apt-get): ${missing[*]}" \
    "(without chromium the browser tests skip; without tilemaker the recipient's page has no map)" >&2
  exit 0
fi
echo "installing Debian's ${missing[*]} (once)" >&2
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }
install || { apt-get update -qq >/dev/null 2>&1 && install; } \
  || echo "could not install ${missing[*]} with apt-get" >&2
exit 0
