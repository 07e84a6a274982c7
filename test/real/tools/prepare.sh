#!/usr/bin/env bash
# Installs (or finds in the machine-local cache) every real component the real-component tests start: the OpenClaw
# gateway with its Node.js, a Kubernetes API server with etcd and a controller manager, and moto's AWS emulation.
# Each installer says what it could not install and why; the tests then start and stop the servers themselves.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
OPENCLAW_VERSION="$(node -e "const s=require('fs').readFileSync('$root/src/host/host.ts','utf8');const m=/DEFAULT_OPENCLAW_VERSION = '([^']+)'/.exec(s);if(!m)process.exit(1);console.log(m[1])")"
export OPENCLAW_VERSION
start=$(date +%s)
times=""
for tool in openclaw moto kubernetes; do
  t=$(date +%s)
  bash "$here/$tool.sh" >/dev/null
  times="${times:+$times, }$tool $(( $(date +%s) - t )) s"
done
echo "real components ready in $(( $(date +%s) - start )) s ($times; cache: ${CDK_OPENCLAW_TOOLS_CACHE:-$HOME/.cache/cdk-openclaw-tools})" >&2
