#!/usr/bin/env bash
# Installs the real OpenClaw gateway from the npm registry, with the Node.js it supports (the registry's `node`
# package), into a machine-local cache keyed by both versions, so a machine that installed it once skips the ~80 s
# install. Prints two lines: the directory whose bin/ holds node and npm, and the directory whose
# node_modules/.bin/openclaw is the gateway's CLI.
set -euo pipefail

NODE_VERSION="${OPENCLAW_NODE_VERSION:-24.21.0}"   # what NodeSource's Node 24 brings a host today (npm 11.19.1)
OPENCLAW_VERSION="${OPENCLAW_VERSION:?set OPENCLAW_VERSION to the pinned default version}"
CACHE="${CDK_OPENCLAW_TOOLS_CACHE:-$HOME/.cache/cdk-openclaw-tools}"
NODE_DIR="$CACHE/node-$NODE_VERSION"
APP_DIR="$CACHE/openclaw-$OPENCLAW_VERSION-node-$NODE_VERSION"

if [ ! -x "$NODE_DIR/bin/node" ]; then
  echo "openclaw.sh: installing Node.js $NODE_VERSION from the npm registry" >&2
  rm -rf "$NODE_DIR.partial" && mkdir -p "$NODE_DIR.partial"
  if ! npm install --prefix "$NODE_DIR.partial" --no-fund --no-audit --no-save "node@$NODE_VERSION" >&2; then
    echo "openclaw.sh: could not install node@$NODE_VERSION from the npm registry" >&2; exit 1
  fi
  # The package's bin is a small launcher; the real binary sits in the platform package it pulls in.
  real_node="$(find "$NODE_DIR.partial/node_modules" -path '*/bin/node' -type f | head -n 1)"
  [ -n "$real_node" ] || { echo "openclaw.sh: node@$NODE_VERSION brought no node binary" >&2; exit 1; }
  node_home="$(dirname "$(dirname "$real_node")")"
  rm -rf "$NODE_DIR" && mv "$node_home" "$NODE_DIR" && rm -rf "$NODE_DIR.partial"
fi
export PATH="$NODE_DIR/bin:$PATH"
[ "$(node --version)" = "v$NODE_VERSION" ] || { echo "openclaw.sh: $NODE_DIR/bin/node is $(node --version), not v$NODE_VERSION" >&2; exit 1; }

if [ ! -x "$APP_DIR/node_modules/.bin/openclaw" ]; then
  echo "openclaw.sh: installing openclaw@$OPENCLAW_VERSION with Node.js $NODE_VERSION (about 80 s, 770 MB)" >&2
  rm -rf "$APP_DIR.partial" && mkdir -p "$APP_DIR.partial"
  printf '{ "name": "openclaw-test-install", "private": true }\n' > "$APP_DIR.partial/package.json"
  if ! (cd "$APP_DIR.partial" && npm install --no-fund --no-audit --save-exact "openclaw@$OPENCLAW_VERSION" >&2); then
    echo "openclaw.sh: npm could not install openclaw@$OPENCLAW_VERSION" >&2; exit 1
  fi
  rm -rf "$APP_DIR" && mv "$APP_DIR.partial" "$APP_DIR"
fi
echo "$NODE_DIR"
echo "$APP_DIR"
