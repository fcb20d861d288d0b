#!/usr/bin/env bash
# Builds the system tests' guest into .guest/: Debian's cloud kernel plus a
# busybox initramfs whose /init pings a peer and prints PING-OK or PING-FAIL on
# ttyS0 (and, given vnet.peers=IP,IP..., pings each of those too and prints
# PEER-OK IP or PEER-FAIL IP for each, before the verdict on the first peer).
# Root, apt only, nothing installed on the machine. Idempotent: a complete
# .guest/ for the same kernel and this same script is left as it is; any change
# to this script (the guest's /init lives here) changes the stamp and rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=$repo/.guest

# Load order matters: each module needs the ones before it.
modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net)

die() { echo "setup-guest: $*" >&2; exit 1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
installed busybox-static || die "busybox-static missing: run scripts/install-deps.sh"
installed cpio || die "cpio missing: run scripts/install-deps.sh"
busybox_bin=/bin/busybox

kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1)
if [[ -z $kpkg ]]; then
  apt-get update -qq
  kpkg=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1)
fi
[[ -n $kpkg ]] || die "apt knows no linux-image-cloud-amd64: check /etc/apt/sources.list"
kver=${kpkg#linux-image-}
stamp="$kver $(sha256sum "$0" | cut -c1-16)"

if [[ -f $out/stamp && $(cat "$out/stamp") == "$stamp" && -s $out/vmlinuz && -s $out/initrd.gz ]]; then
  echo "setup-guest: .guest/ is complete for $kver"
  exit 0
fi

scratch=$(mktemp -d /tmp/vnet-guest-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
# Lists may be stale (package superseded): refresh once and retry.
(cd "$scratch" && apt-get download -q "$kpkg" >/dev/null 2>&1) || (cd "$scratch" && apt-get update -qq && apt-get download -q "$kpkg" 2>/dev/null)
dpkg -x "$scratch"/"$kpkg"_*.deb "$scratch/x"

root=$scratch/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
cp "$busybox_bin" "$root/bin/busybox"
moddir=$scratch/x/lib/modules/$kver/kernel
for m in "${modules[@]}"; do
  ko=$(find "$moddir" -name "$m.ko" -print -quit)
  [[ -n $ko ]] || die "module $m.ko not found in $kpkg"
  cp "$ko" "$root/lib/modules/"
done
printf '%s\n' "${modules[@]}" >"$root/lib/modules/order"

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "$*" >/dev/ttyS0; }
verdict() { say "$1"; sync; poweroff -f; }
for m in $(cat /lib/modules/order); do
  insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done
ipaddr=; peer=; peers=; hotplug=
for w in $(cat /proc/cmdline); do
  case $w in
    vnet.ip=*) ipaddr=${w#vnet.ip=} ;;
    vnet.peer=*) peer=${w#vnet.peer=} ;;
    vnet.peers=*) peers=$(echo "${w#vnet.peers=}" | tr , ' ') ;;
    vnet.hotplug=1) hotplug=1 ;;
  esac
done
# Test traffic stays on TEST-NET-1 or IPv6 link-local.
case $ipaddr in 192.0.2.*/*|fe80:*/*) ;; *) verdict "PING-FAIL bad vnet.ip=$ipaddr" ;; esac
for p in $peer $peers; do
  case $p in 192.0.2.*|fe80:*) ;; *) verdict "PING-FAIL bad vnet.peer=$p" ;; esac
done
[ -n "$peer" ] || verdict "PING-FAIL no vnet.peer"
# vnet.hotplug=1: no poweroff; every NIC that appears (at boot or hot-plugged) is
# brought up with address base+ifindex and pings the peer through itself:
# HOTPLUG-UP / HOTPLUG-PING-OK / HOTPLUG-PING-FAIL / HOTPLUG-GONE <dev> <mac>.
if [ -n "$hotplug" ]; then
  case $ipaddr in 192.0.2.*/*) ;; *) verdict "PING-FAIL vnet.hotplug needs an IPv4 vnet.ip" ;; esac
  net=${ipaddr%.*}; last=${ipaddr##*.}; base=${last%/*}; len=${last#*/}
  ip link set lo up
  say "HOTPLUG-READY"
  seen=" "
  while :; do
    now=" "
    for p in /sys/class/net/eth*; do
      [ -e "$p" ] || continue
      d=${p##*/}; now="$now$d "
      case $seen in *" $d "*) continue ;; esac
      mac=$(cat "$p/address"); idx=$(cat "$p/ifindex")
      ip link set "$d" up
      ip addr add "$net.$((base + idx))/$len" dev "$d"
      say "HOTPLUG-UP $d $mac"
      ok=
      for try in 1 2 3 4 5; do
        if ping -4 -c 1 -W 1 -I "$d" "$peer" >/dev/null 2>&1; then ok=1; break; fi
      done
      if [ -n "$ok" ]; then say "HOTPLUG-PING-OK $d $mac"; else say "HOTPLUG-PING-FAIL $d $mac"; fi
    done
    for d in $seen; do
      case $now in *" $d "*) ;; *) say "HOTPLUG-GONE $d" ;; esac
    done
    seen=$now
    sleep 0.1
  done
fi
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /sys/class/net/eth0 ] || verdict "PING-FAIL no eth0"
ip link set lo up
ip link set eth0 up
ip addr add "$ipaddr" dev eth0
say "guest eth0 $(cat /sys/class/net/eth0/address) $ipaddr -> $peer"
# reach PEER TRIES: ping until one round gets an answer, at most TRIES rounds.
reach() {
  case $1 in fe80:*) target="$1%eth0"; fam=-6 ;; *) target=$1; fam=-4 ;; esac
  n=0
  while [ $n -lt "$2" ]; do
    n=$((n + 1))
    ping $fam -c 3 -W 2 "$target" >/dev/ttyS0 2>&1 && return 0
  done
  return 1
}
if [ -z "$peers" ]; then
  reach "$peer" 3 && verdict PING-OK
  verdict PING-FAIL
fi
# Several peers: one line per peer (the first one too), then the first peer's verdict.
if reach "$peer" 3; then main=OK; else main=FAIL; fi
say "PEER-$main $peer"
for p in $peers; do
  if reach "$p" 2; then say "PEER-OK $p"; else say "PEER-FAIL $p"; fi
done
verdict "PING-$main"
INIT
chmod 755 "$root/init"

# A .guest symlink that leads nowhere (a clone of a tree that shared another's guest) becomes a folder of our own.
[[ -L $out && ! -e $out ]] && rm -f "$out"
mkdir -p "$out"
rm -f "$out/stamp"
cp "$scratch/x/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$out/initrd.gz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
echo "$stamp" >"$out/stamp"
echo "setup-guest: built .guest/ for $kver"
