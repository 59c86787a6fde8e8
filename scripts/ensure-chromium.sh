#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright), with
# a CJK font so that Chinese pages lay out (and photograph) as users see them; installs
# whichever is missing.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "Missing for the browser tests: run 'apt-get install ${missing[*]}' as root" >&2
    exit 1
  }
  sudo="sudo -n"
fi
echo "Installing ${missing[*]} from Debian ..." >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
