#!/usr/bin/env bash
# Builds a real etcd, kube-apiserver and kube-controller-manager from the Go module proxy (no Kubernetes release
# binary is downloadable here) and caches them by version in a machine-local directory, so a machine that built
# them once starts in seconds. Prints the directory holding the three binaries.
#
# Why the detour: `go install k8s.io/kubernetes/cmd/kube-apiserver@v…` fails because the module's go.mod replaces
# the k8s.io/* staging modules with ./staging/…, which the module zip does not carry. We copy the module, drop those
# replaces and require the published staging modules (v0.<minor>.<patch>) instead.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.35.4}"      # the platform's Kubernetes minor (EKS 1.35)
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE="${CDK_OPENCLAW_TOOLS_CACHE:-$HOME/.cache/cdk-openclaw-tools}"
OUT="$CACHE/kubernetes-$KUBE_VERSION-etcd-$ETCD_VERSION"

built() { [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kube-controller-manager" ] && [ -x "$OUT/etcd" ]; }
if built; then
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null 2>&1 || { echo "kubernetes.sh: the Go toolchain is needed to build kube-apiserver (none on PATH)" >&2; exit 1; }

# Several test runs may ask at once: one builds, the others wait for it (a second build racing the first once removed
# the first one's binaries), then find the result.
mkdir -p "$CACHE"
exec 9>"$OUT.lock"
if ! flock -w 1800 9; then echo "kubernetes.sh: another build held $OUT.lock for 30 minutes" >&2; exit 1; fi
if built; then
  echo "$OUT"
  exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kube-build.XXXXXX")"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
# Built into this run's own directory, moved into place only when all three binaries are there.
STAGE="$WORK/out"
mkdir -p "$STAGE"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

echo "kubernetes.sh: building kube-apiserver, kube-controller-manager $KUBE_VERSION and etcd $ETCD_VERSION (about 9 minutes cold)" >&2
src_dir="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
[ -d "$src_dir" ] || { echo "kubernetes.sh: the Go module proxy did not serve k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
cp -r "$src_dir" "$WORK/kubernetes"
chmod -R u+w "$WORK/kubernetes"
cd "$WORK/kubernetes"
rm -rf go.work go.work.sum vendor
staging_version="v0.${KUBE_VERSION#v1.}"
staging_modules=$(sed -n 's/^\s*\(k8s.io\/[a-z0-9-]*\) => \.\/staging\/.*$/\1/p' go.mod)
[ -n "$staging_modules" ] || { echo "kubernetes.sh: no staging replaces found in go.mod; the layout changed" >&2; exit 1; }
for module in $staging_modules; do
  go mod edit -dropreplace="$module" -require="$module@$staging_version"
done
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
go build -trimpath -ldflags "$ldflags" -o "$STAGE/kube-apiserver" ./cmd/kube-apiserver
go build -trimpath -ldflags "$ldflags" -o "$STAGE/kube-controller-manager" ./cmd/kube-controller-manager

mkdir -p "$WORK/etcd"
cd "$WORK/etcd"
cat > main.go <<'GO'
// A real etcd server: the upstream entry point, built from the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
go mod init local/etcd >/dev/null 2>&1
go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
go mod tidy >/dev/null 2>&1
go build -trimpath -ldflags "-s -w" -o "$STAGE/etcd" .

rm -rf "$OUT" "$OUT.partial"
mkdir -p "$OUT.partial"
cp "$STAGE/kube-apiserver" "$STAGE/kube-controller-manager" "$STAGE/etcd" "$OUT.partial/"
mv "$OUT.partial" "$OUT"
echo "$OUT"
