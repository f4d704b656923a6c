#!/bin/sh
# Installs Debian's Chromium for the browser test of the web chat page.
set -e
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium from Debian's packages (for the browser test) …"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
  echo "The browser test needs Chromium at /usr/bin/chromium. Install it with:" >&2
  echo "  sudo apt-get install chromium" >&2
  exit 1
fi
