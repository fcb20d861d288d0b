#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: interface
short_description: A vnet-virt interface (tap, veth + macvtap, or direct) present or absent on a libvirt domain
version_added: "0.1.0"
description:
  - Adds or removes one C(<interface>) of a libvirt domain, and vnet-virt's record of the host devices it needs,
    by running the C(vnet-virt) CLI installed on the managed host (C(attach-tap), C(attach-macvtap),
    C(attach-direct), C(detach)) with C(--json).
  - The domain is a domain XML file on the managed host (I(path)), edited in place byte for byte (comments,
    quoting and line endings survive), or a libvirt domain by name (I(domain) and I(uri)), which needs a
    vnet-virt whose commands accept C(--domain NAME -c URI).
  - The interface is known by its device, so a second run with the same parameters changes nothing. An interface
    with that device but other settings is replaced (detached, then attached again with its MAC kept unless
    I(mac) is given).
  - I(state=absent) takes the same parameters as I(state=present), so a play can flip one word; it removes the
    interface with the tap, macvtap or (direct) MAC named, and reports no change when there is none.
  - Host devices are not made here unless I(provision) is set; use M(vnet_virt.libvirt.devices) or the hook.
  - Check mode prints nothing to the file and reports what would change; diff mode shows the XML diff.
version_added_collection: vnet_virt.libvirt
author:
  - vnet-virt contributors
options:
  state:
    description: Whether the interface is in the domain.
    type: str
    choices: [present, absent]
    default: present
  path:
    description:
      - Domain XML file on the managed host. Exactly one of I(path) and I(domain).
    type: path
  domain:
    description:
      - Name of a libvirt domain; vnet-virt reads its persistent definition and defines it again
        (passes C(--domain NAME -c URI)). Exactly one of I(path) and I(domain).
    type: str
  uri:
    description: libvirt connection URI used with I(domain).
    type: str
    default: qemu:///system
  live:
    description: With I(domain), also change the running guest (passes C(--live)).
    type: bool
    default: false
  kind:
    description:
      - C(tap) is an C(<interface type="ethernet">) with an unmanaged tap on I(bridge).
      - C(macvtap) is an ethernet interface whose target is a macvtap on I(lower), optionally a veth pair
        (I(lower), I(veth_peer)) whose peer is on I(bridge); the macvtap gets the guest MAC.
      - C(direct) is an C(<interface type="direct">) on I(source); libvirt makes the macvtap itself.
    type: str
    choices: [tap, macvtap, direct]
    required: true
  tap:
    description: Tap device name. Required for I(kind=tap) (it is how a second run finds the interface).
    type: str
  bridge:
    description: Bridge the tap (I(kind=tap)) or the veth peer (I(kind=macvtap)) joins.
    type: str
  mac:
    description:
      - Guest MAC. Default for tap and macvtap, the MAC vnet-virt derives from the domain. Required for I(kind=direct).
    type: str
  model:
    description: NIC model, for example virtio or e1000e (vnet-virt's default is virtio).
    type: str
  lower:
    description: Device the macvtap sits on (I(kind=macvtap)); with I(veth_peer), one end of a veth pair.
    type: str
  macvtap:
    description: Name of the macvtap device (I(kind=macvtap)).
    type: str
  veth_peer:
    description: The other end of the veth pair whose end I(lower) carries the macvtap; needs I(bridge).
    type: str
  mode:
    description: macvtap mode (vepa, bridge, private, passthru, source; direct - vepa, bridge, private, passthrough).
    type: str
  source:
    description: Host device of a direct interface (I(kind=direct)).
    type: str
  queues:
    description: virtio queues (C(<driver queues>)); the tap is made multi_queue.
    type: int
  mtu:
    description: MTU (C(<mtu size>)).
    type: int
  pci_address:
    description: PCI address C([DDDD:]BB:SS.F) for the new interface.
    type: str
  trust_guest_rx_filters:
    description: With I(kind=direct), set C(trustGuestRxFilters="yes").
    type: bool
    default: false
  provision:
    description: Also create the host devices before the XML is written (passes C(--provision)).
    type: bool
    default: false
  netns:
    description: With I(provision), the network namespace to work in.
    type: str
  create_bridge:
    description: With I(provision), create a missing bridge.
    type: bool
    default: false
  bin:
    description:
      - Path of the vnet-virt executable on the managed host. Default, the environment variable
        C(VNET_VIRT_BIN), then C(vnet-virt) on PATH.
    type: path
notes:
  - Runs the vnet-virt installed on the managed host (role M(vnet_virt.libvirt.install)); it needs Node.js 20.
  - A failure reports vnet-virt's own one-line error as C(msg) (file, element or option, what to do).
  - I(domain) and I(uri) need a vnet-virt with C(--domain) support; I(path) works with every version.
seealso:
  - module: vnet_virt.libvirt.devices
  - module: vnet_virt.libvirt.hook
'''

EXAMPLES = r'''
- name: A tap on br0 for web1
  vnet_virt.libvirt.interface:
    path: /etc/vnet-virt/domains/web1.xml
    kind: tap
    tap: t-web1-0
    bridge: br0

- name: A macvtap with the guest MAC, on a veth whose peer is on br0
  vnet_virt.libvirt.interface:
    path: /etc/vnet-virt/domains/web1.xml
    kind: macvtap
    lower: vl-web1
    veth_peer: vp-web1
    bridge: br0
    macvtap: mvt-web1
    mac: "52:54:00:5e:11:02"

- name: The same interface gone (only the state differs)
  vnet_virt.libvirt.interface:
    path: /etc/vnet-virt/domains/web1.xml
    state: absent
    kind: macvtap
    lower: vl-web1
    veth_peer: vp-web1
    bridge: br0
    macvtap: mvt-web1
    mac: "52:54:00:5e:11:02"

- name: On a defined domain, by name (needs vnet-virt with --domain)
  vnet_virt.libvirt.interface:
    domain: web1
    uri: qemu:///system
    kind: tap
    tap: t-web1-0
    bridge: br0
'''

RETURN = r'''
action:
  description: What happened (C(added), C(replaced), C(unchanged), C(removed), C(absent)).
  returned: always
  type: str
  sample: added
interface:
  description: The interface as vnet-virt reports it (type, dev, mac, model, xpath, ...).
  returned: when there is one
  type: dict
record:
  description: vnet-virt's record entry for the interface (null for direct).
  returned: when there is one
  type: dict
commands:
  description: The vnet-virt command lines that ran.
  returned: always
  type: list
  elements: list
'''

import os
import shutil
import tempfile

from ansible_collections.vnet_virt.libvirt.plugins.module_utils.vnet_virt import Cli, domain_args, domain_module

CLASH = 'is already used by an interface with other settings'
NOT_FOUND = 'no interface with'

# Module option -> CLI option, per kind (only what that attach command accepts).
KIND_OPTIONS = {
    'tap': ['tap', 'bridge', 'mac', 'model', 'queues', 'mtu', 'pci_address'],
    'macvtap': ['lower', 'macvtap', 'mode', 'veth_peer', 'bridge', 'mac', 'model', 'pci_address'],
    'direct': ['source', 'mode', 'mac', 'model', 'pci_address'],
}


def attach_args(p, mac=None):
    args = ['attach-' + p['kind']]
    for key in KIND_OPTIONS[p['kind']]:
        value = mac if key == 'mac' and mac else p.get(key)
        if value is not None:
            args += ['--' + key.replace('_', '-'), str(value)]
    if p['kind'] == 'direct' and p['trust_guest_rx_filters']:
        args.append('--trust-guest-rx-filters')
    if p['provision'] and p['kind'] != 'direct':
        args.append('--provision')
        if p.get('netns'):
            args += ['--netns', p['netns']]
        if p['create_bridge']:
            args.append('--create-bridge')
    return args


def identity_args(p):
    """How detach names this interface: its device, or for direct its MAC."""
    if p['kind'] == 'tap':
        return ['--target', p['tap']]
    if p['kind'] == 'macvtap':
        return ['--target', p['macvtap']]
    return ['--mac', p['mac']]


def read(path):
    with open(path, 'rb') as f:
        return f.read().decode('utf-8')


def main():
    spec = dict(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        path=dict(type='path'),
        domain=dict(type='str'),
        live=dict(type='bool', default=False),
        kind=dict(type='str', choices=['tap', 'macvtap', 'direct'], required=True),
        tap=dict(type='str'), bridge=dict(type='str'), mac=dict(type='str'), model=dict(type='str'),
        lower=dict(type='str'), macvtap=dict(type='str'), veth_peer=dict(type='str'), mode=dict(type='str'),
        source=dict(type='str'), queues=dict(type='int'), mtu=dict(type='int'), pci_address=dict(type='str'),
        trust_guest_rx_filters=dict(type='bool', default=False),
        provision=dict(type='bool', default=False), netns=dict(type='str'),
        create_bridge=dict(type='bool', default=False),
    )
    module = domain_module(spec, ('path', 'domain'), required_if=[
        ('kind', 'tap', ('tap',)),
        ('kind', 'macvtap', ('lower', 'macvtap')),
        ('kind', 'direct', ('source', 'mac')),
    ])
    p = module.params
    cli = Cli(module)
    if p['path']:
        by_file(module, cli, p)
    else:
        by_name(module, cli, p)


def finish(module, cli, changed, action, data, diff_text, before=None, after=None):
    result = dict(changed=changed, action=action, commands=cli.commands)
    if data:
        result['interface'] = data.get('interface')
        result['record'] = data.get('record')
    if module._diff and changed:
        if before is not None:
            result['diff'] = dict(before=before, after=after, before_header=module.params['path'],
                                  after_header=module.params['path'])
        elif diff_text:
            result['diff'] = dict(prepared=diff_text)
    module.exit_json(**result)


def by_file(module, cli, p):
    """Every edit is made on a copy; the file is replaced once, atomically, and only when its bytes change."""
    path = os.path.realpath(p['path'])
    if not os.path.isfile(path) and p['state'] == 'absent':
        finish(module, cli, False, 'absent', None, None)
    if not os.path.isfile(path):
        module.fail_json(msg='vnet-virt: %s: no such file; give the domain XML file on the managed host' % path)
    before = read(path)
    work = tempfile.mkdtemp(prefix='vnet-virt-ansible-')
    try:
        copy = os.path.join(work, os.path.basename(path))
        shutil.copyfile(path, copy)
        action, data = edit(cli, p, copy)
        after = read(copy)
        changed = after != before
        if changed and not module.check_mode:
            if p['provision'] and p['state'] == 'present':
                # The devices are made by attach --provision on the real file, which then writes it.
                cli.run(attach_args(p, mac=(data or {}).get('interface', {}).get('mac')) + [path, '--in-place', '--json'])
                if read(path) != after:
                    module.fail_json(msg='vnet-virt: %s changed while it was edited; run again' % path)
            else:
                module.atomic_move(copy, path, unsafe_writes=False)
        finish(module, cli, changed, action if changed else ('unchanged' if p['state'] == 'present' else 'absent'),
               data, None, before, after)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def edit(cli, p, copy):
    """Applies the wanted state to the copy; returns (action, vnet-virt's JSON)."""
    if p['state'] == 'absent':
        rc, data, _, err = cli.run(['detach', copy] + identity_args(p) + ['--in-place', '--json'], ok=(0, 3))
        if rc == 3:
            if NOT_FOUND not in err:
                cli.fail(rc, err)
            return 'absent', None
        return 'removed', data
    plain = dict(p, provision=False)
    rc, data, _, err = cli.run(attach_args(plain) + [copy, '--in-place', '--json'], ok=(0, 3))
    if rc == 0:
        return data.get('action', 'added'), data
    if CLASH not in err:
        cli.fail(rc, err)
    # Same device, other settings: replace it, keeping the MAC the guest knows unless a new one is asked for.
    _, old, _, _ = cli.run(['detach', copy] + identity_args(p) + ['--in-place', '--json'])
    mac = p.get('mac') or (old or {}).get('interface', {}).get('mac')
    _, data, _, _ = cli.run(attach_args(plain, mac=mac) + [copy, '--in-place', '--json'])
    return 'replaced', data


def by_name(module, cli, p):
    """A libvirt domain by name: vnet-virt edits its definition; check mode asks for the diff only."""
    target = domain_args(p)
    out = ['--print-diff'] if module.check_mode else []
    if p['state'] == 'absent':
        rc, data, _, err = cli.run(['detach'] + target + identity_args(p) + out + ['--json'], ok=(0, 3))
        if rc == 3:
            if NOT_FOUND not in err:
                cli.fail(rc, err)
            finish(module, cli, False, 'absent', None, None)
        finish(module, cli, True, 'removed', data, (data or {}).get('diff'))
    rc, data, _, err = cli.run(attach_args(p) + target + out + ['--json'], ok=(0, 3))
    if rc == 3:
        if CLASH not in err:
            cli.fail(rc, err)
        module.fail_json(msg='vnet-virt: %s %s (by name an interface is not replaced: state=absent first)' % (
            p['domain'], err.strip().splitlines()[-1]), rc=rc, stderr=err, commands=cli.commands)
    action = (data or {}).get('action', 'added')
    finish(module, cli, action != 'unchanged', action, data, (data or {}).get('diff'))


if __name__ == '__main__':
    main()
