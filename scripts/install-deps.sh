#!/usr/bin/env bash
# Everything the tests and benchmarks need (root): Debian packages, then the
# system tests' guest. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  iproute2               # ip: tuntap, veth, macvtap, bridge, netns
  libxml2-utils          # xmllint: lint's schema engine, golden tests, benchmarks
  libvirt-clients        # virt-xml-validate, virsh
  libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86  # the system tests' libvirtd and guests
  busybox-static cpio    # the guest's initramfs
  util-linux             # unshare (the system tests' private mounts)
  chromium               # show's SVG rendered to a picture in a real browser (golden tier)
  ansible-core           # the fleet tests' controller (ansible-playbook, ansible-doc)
  openssh-server openssh-client  # the fleet tests' simulated hosts: sshd, and ssh from the controller
  python3                # Ansible modules on the managed hosts
  hyperfine jq
  pre-commit git         # the pre-commit hook's test (pre-commit brings python3-yaml: action.yml's test reads YAML with it)
  groff-base             # the man page's test renders it
)
missing=()
for p in "${packages[@]%%#*}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The system tests' guest (kernel + initramfs into .guest/; installs nothing).
bash "$(dirname "$0")/setup-guest.sh"
