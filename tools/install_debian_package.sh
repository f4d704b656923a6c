#!/bin/sh
# Installs one of Debian's packages the project needs beyond Python: chromium (the browser
# tests) or haproxy (the cluster's load balancer). Usage: install_debian_package.sh PACKAGE WHY
set -e
package="$1"; why="$2"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing $package from Debian's packages ($why) …"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
else
  echo "$why needs $package. Install it with:" >&2
  echo "  sudo apt-get install $package" >&2
  exit 1
fi
