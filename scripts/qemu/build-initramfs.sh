#!/usr/bin/env bash
# Build the conformance guest's initramfs (cpio newc, gzip):
#   scripts/qemu/build-initramfs.sh <kernel-root> <kver> <out.cpio.gz> <module>...
# <kernel-root> is an extracted Debian linux-image package (scripts/fetch-debian-kernel.sh).
# It holds: busybox-static, the real kmod binary (modprobe/rmmod/insmod/lsmod/depmod/modinfo) with the
# shared libraries ldd reports, the listed modules and everything they depend on (modules.dep), the
# modules.* indexes made by the real depmod for exactly that subset, the static helper kbind-guest
# (compiled here from kbind-guest.c) and the init script.
set -euo pipefail
root=${1:?kernel root} kver=${2:?kver} out=${3:?output}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/kbind-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,proc,sys,dev,run,tmp,etc/modprobe.d,lib/modules/"$kver"}

# busybox: every applet except the module tools, which are kmod's.
cp "$(command -v busybox)" "$stage/bin/busybox"
for a in $(busybox --list); do
  case "$a" in modprobe|insmod|rmmod|lsmod|depmod|modinfo|busybox) continue ;; esac
  ln -sf busybox "$stage/bin/$a"
done

# kmod, and the shared libraries of kmod and busybox (none when busybox is busybox-static).
kmod=$(readlink -f "$(command -v kmod)")
cp "$kmod" "$stage/bin/kmod"
for t in modprobe insmod rmmod lsmod depmod modinfo; do ln -sf ../bin/kmod "$stage/sbin/$t"; done
for bin in "$kmod" "$stage/bin/busybox"; do
  for lib in $( (ldd "$bin" 2>/dev/null || true) | grep -o '/[^ ]*'); do
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
  done
done

# The helper.
gcc -static -O2 -Wall -o "$stage/bin/kbind-guest" "$here/kbind-guest.c"
install -m 0755 "$here/init" "$stage/init"

# Modules with their dependency closure.
mdir="$root/lib/modules/$kver"
declare -A want=()
for m in "$@"; do
  n=${m//-/_}
  line=$(grep -E "(^|/)(${n//_/[-_]})\.ko(\.[a-z]+)?:" "$mdir/modules.dep" || true)
  [ -n "$line" ] || { echo "module $m not in $mdir/modules.dep" >&2; exit 1; }
  for p in ${line/:/}; do want[$p]=1; done
done
for p in "${!want[@]}"; do
  mkdir -p "$stage/lib/modules/$kver/$(dirname "$p")"
  case "$p" in
    *.xz) xz -dc "$mdir/$p" > "$stage/lib/modules/$kver/${p%.xz}" ;;
    *.zst) zstd -qdc "$mdir/$p" > "$stage/lib/modules/$kver/${p%.zst}" ;;
    *.gz) gzip -dc "$mdir/$p" > "$stage/lib/modules/$kver/${p%.gz}" ;;
    *) cp "$mdir/$p" "$stage/lib/modules/$kver/$p" ;;
  esac
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [ -f "$mdir/$f" ] && cp "$mdir/$f" "$stage/lib/modules/$kver/$f"
done
depmod -b "$stage" "$kver"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -6 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
