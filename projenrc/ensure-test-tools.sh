#!/usr/bin/env bash
# Tools the tests need beyond Node.js: Debian's chromium (the sign-in page's browser test) and openssl (the cluster
# client's TLS test makes its certificates with it). Installed from Debian when missing, so the README's test command
# works on a fresh machine; CHROMIUM_PATH points the browser test at another chromium instead.
set -euo pipefail
missing=()
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium fonts-dejavu-core); fi
if ! command -v openssl >/dev/null 2>&1; then missing+=(openssl); fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} from Debian for the tests" >&2
as_root=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install ${missing[*]} (or set CHROMIUM_PATH)" >&2; exit 1; }
  as_root="sudo"
fi
$as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
