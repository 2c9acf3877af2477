#!/bin/sh
# Install the Debian 12 packages pg_cdp needs, but only those that are missing.
#   sh test/deps.sh build   building the extension
#   sh test/deps.sh demo    the same, plus the demo's local SMTP server (make demo)
#   sh test/deps.sh test    the same, plus what the test suite needs
#   sh test/deps.sh bench   the same as build, plus the benchmark's peers
#   sh test/deps.sh fuzz    the same as build, plus clang, its sanitizer and
#                           libFuzzer runtimes and llvm-symbolizer (make fuzz)
set -eu

what=${1:-build}
pkgs="make gcc postgresql-15 postgresql-server-dev-15 postgresql-contrib libcurl4-openssl-dev python3"
case "$what" in
  demo)  pkgs="$pkgs python3-aiosmtpd" ;;
  test)  pkgs="$pkgs libipc-run-perl python3-aiosmtpd openssl" ;;
  bench) pkgs="$pkgs postgresql-15-similarity" ;;
  fuzz)  pkgs="$pkgs clang libclang-rt-14-dev llvm-14" ;;
  build) ;;
  *) echo "usage: $0 build|demo|test|bench|fuzz" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "pg_cdp: missing Debian packages:$missing" >&2
  echo "Install them as root (apt-get install$missing) or run this command as root." >&2
  exit 1
fi

echo "pg_cdp: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# postgresql-common would create and start a "main" cluster: we never use one.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	$missing >/dev/null
