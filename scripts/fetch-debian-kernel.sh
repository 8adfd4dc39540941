#!/usr/bin/env bash
# Fetch a real Debian kernel image package and extract it under .cache/debian/<flavour>/.
#   scripts/fetch-debian-kernel.sh amd64|arm64 [6.1|6.12]
# Prints the extracted root. Idempotent: a completed extraction is reused.
# Uses only Debian's package repository (apt-get download), never a web download.
set -euo pipefail
arch=${1:?arch: amd64 or arm64}
series=${2:-6.1}
top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/.cache/debian"
mkdir -p "$cache"

if [ "$arch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
  dpkg --add-architecture "$arch"
  apt-get update -qq >/dev/null
fi

# The pinned ABI first: the recordings in test/conformance and data/debian were made with it.
declare -A pin=([6.1]=6.1.0-56)
pkg=""
if [ -n "${pin[$series]:-}" ]; then
  want="linux-image-${pin[$series]}-${arch}"
  if apt-cache show "$want:$arch" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-cache show "$want:$arch" >/dev/null 2>&1; }; then
    pkg=$want
  else
    echo "warning: $want is no longer in Debian's repository; using the newest $series package (recorded observations may differ)" >&2
  fi
fi
# Else the newest linux-image-<series>.*-<arch> package that apt knows (not -dbg, -unsigned, -rt, -cloud).
[ -n "$pkg" ] || pkg=$(apt-cache search --names-only "^linux-image-${series//./\\.}\.[0-9]+-[0-9]+-${arch}$" 2>/dev/null | awk '{print $1}' | sort -V | tail -n1)
if [ -z "$pkg" ]; then
  pkg=$(apt-cache search --names-only "^linux-image-${series//./\\.}\.[0-9]+-[0-9]+-${arch}-unsigned$" 2>/dev/null | awk '{print $1}' | sort -V | tail -n1)
fi
if [ -z "$pkg" ]; then
  apt-get update -qq >/dev/null
  pkg=$(apt-cache search --names-only "^linux-image-${series//./\\.}\.[0-9]+-[0-9]+-${arch}(-unsigned)?$" | awk '{print $1}' | sort -V | tail -n1)
fi
[ -n "$pkg" ] || { echo "no linux-image package for $series $arch" >&2; exit 1; }
dest="$cache/${pkg}"
if [ ! -f "$dest/.done" ]; then
  rm -rf "$dest"; mkdir -p "$dest/root"
  (cd "$dest" && apt-get download -qq "${pkg}:${arch}" >/dev/null)
  deb=$(ls "$dest"/*.deb | head -n1)
  dpkg-deb -x "$deb" "$dest/root"
  rm -f "$deb"
  kver=$(ls "$dest/root/lib/modules" | head -n1)
  # The package ships modules.order/.builtin/.builtin.modinfo; depmod builds the rest.
  depmod -b "$dest/root" "$kver"
  touch "$dest/.done"
fi
echo "$dest/root"
