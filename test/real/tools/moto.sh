#!/usr/bin/env bash
# Installs moto's server (AWS emulation) and the AWS CLI (what the host's secret resolver calls), both from PyPI,
# each into a virtual environment in a machine-local cache keyed by its version, so a machine that installed them
# once skips the ~90 s install. Prints two lines: the moto_server program and the aws program.
set -euo pipefail

MOTO_VERSION="${MOTO_VERSION:-5.2.6}"
AWSCLI_VERSION="${AWSCLI_VERSION:-1.46.3}"
CACHE="${CDK_OPENCLAW_TOOLS_CACHE:-$HOME/.cache/cdk-openclaw-tools}"

# venv_install DIR PACKAGE: a virtual environment records its own path, so it is built where it lives.
venv_install() {
  local dir="$1" package="$2"
  [ -f "$dir/.installed" ] && return 0
  command -v python3 >/dev/null 2>&1 || { echo "moto.sh: python3 is needed to install $package (none on PATH)" >&2; exit 1; }
  echo "moto.sh: installing $package from PyPI" >&2
  rm -rf "$dir"
  mkdir -p "$CACHE"
  python3 -m venv "$dir"
  if ! "$dir/bin/pip" install --quiet --disable-pip-version-check "$package" >&2; then
    echo "moto.sh: pip could not install $package" >&2; exit 1
  fi
  touch "$dir/.installed"
}

venv_install "$CACHE/moto-$MOTO_VERSION" "moto[server]==$MOTO_VERSION"
venv_install "$CACHE/awscli-$AWSCLI_VERSION" "awscli==$AWSCLI_VERSION"
echo "$CACHE/moto-$MOTO_VERSION/bin/moto_server"
echo "$CACHE/awscli-$AWSCLI_VERSION/bin/aws"
