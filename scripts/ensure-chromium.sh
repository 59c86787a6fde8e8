#!/usr/bin/env bash
# The browser tests drive Debian's Chromium; install it when it is missing (never a
# browser downloaded by Playwright).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "Chromium is missing: run 'apt-get install chromium' as root" >&2
    exit 1
  }
  sudo="sudo -n"
fi
echo "Installing Chromium from Debian ..." >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
