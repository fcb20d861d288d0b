#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: devices
short_description: The host devices of vnet-virt domains present, absent or checked (vnet-virt up, down, check)
version_added: "0.1.0"
description:
  - Makes the host devices that domains' vnet-virt records ask for (taps on bridges, veth pairs, macvtaps with
    the guest MAC), each marked as its domain's, or deletes exactly the devices that carry the domains' marker,
    or compares the host with the records. It runs C(vnet-virt up), C(down) or C(check) with C(--json) on the
    managed host.
  - I(state=present) is C(up), I(state=absent) is C(down), I(state=checked) is C(check), which fails when the host
    differs from the records (each difference in C(drift)) and never changes anything.
  - Check mode runs C(--dry-run) and reports the commands that would run; diff mode shows them as the device
    changes. C(changed) is true only when a command ran (or would run).
  - A device with a wanted name but other properties (drift) stops I(state=present) before anything changes and
    the task fails with vnet-virt's message, unless I(adopt) takes the device over.
author:
  - vnet-virt contributors
options:
  state:
    description: C(present) (up), C(absent) (down) or C(checked) (check).
    type: str
    choices: [present, absent, checked]
    default: present
  paths:
    description:
      - Domain XML files or directories of them (every C(*.xml)) on the managed host. Exactly one of I(paths)
        and I(domains).
    type: list
    elements: path
  domains:
    description:
      - libvirt domain names; their persistent definitions are read through I(uri) (passes C(--domain NAME)
        per domain and C(-c URI); needs a vnet-virt with C(--domain) support).
    type: list
    elements: str
  uri:
    description: libvirt connection URI used with I(domains).
    type: str
    default: qemu:///system
  netns:
    description: Work inside this network namespace (C(ip -n NS)); default, the current one.
    type: str
  create_bridge:
    description: With I(state=present), create a missing recorded bridge (marked as vnet-virt's).
    type: bool
    default: false
  adopt:
    description: With I(state=present), take over devices that have the right name (mark them, fix what can be fixed).
    type: bool
    default: false
  bin:
    description: Path of the vnet-virt executable. Default, C(VNET_VIRT_BIN), then C(vnet-virt) on PATH.
    type: path
notes:
  - A failure reports vnet-virt's one-line error as C(msg); exit code 1 means everything was undone, 4 that the
    undo was incomplete (C(msg) lists what is left and how to remove it).
seealso:
  - module: vnet_virt.libvirt.interface
  - module: vnet_virt.libvirt.hook
'''

EXAMPLES = r'''
- name: Devices of every domain file in a folder, up
  vnet_virt.libvirt.devices:
    paths: [/etc/vnet-virt/domains]

- name: Nothing of theirs left
  vnet_virt.libvirt.devices:
    paths: [/etc/vnet-virt/domains]
    state: absent

- name: Fail when the host drifted from the records
  vnet_virt.libvirt.devices:
    paths: [/etc/vnet-virt/domains/web1.xml]
    state: checked
'''

RETURN = r'''
steps:
  description: The commands that ran (in check mode, that would run), each with command, device, description, domain.
  returned: state is present or absent
  type: list
  elements: dict
notes:
  description: What was left alone on purpose (devices that are not the domain's, bridges still in use).
  returned: state is present or absent
  type: list
  elements: str
drift:
  description: Every difference between host and records (domain, device, kind, expected, actual, message).
  returned: state is checked
  type: list
  elements: dict
commands:
  description: The vnet-virt command lines that ran.
  returned: always
  type: list
  elements: list
'''

import os

from ansible_collections.vnet_virt.libvirt.plugins.module_utils.vnet_virt import Cli, domain_module

VERB = {'present': 'up', 'absent': 'down', 'checked': 'check'}


def main():
    spec = dict(
        state=dict(type='str', choices=['present', 'absent', 'checked'], default='present'),
        paths=dict(type='list', elements='path'),
        domains=dict(type='list', elements='str'),
        netns=dict(type='str'),
        create_bridge=dict(type='bool', default=False),
        adopt=dict(type='bool', default=False),
    )
    module = domain_module(spec, ('paths', 'domains'))
    p = module.params
    cli = Cli(module)
    if p['paths']:
        target = list(p['paths'])
        if p['state'] == 'absent':
            # A file that is gone records nothing to delete.
            target = [t for t in target if os.path.exists(t)]
            if not target:
                module.exit_json(changed=False, steps=[], notes=['no domain file left: nothing to delete'], commands=[])
    else:
        target = []
        for name in p['domains']:
            target += ['--domain', name]
        target += ['-c', p['uri']]
    args = [VERB[p['state']]] + target + ['--json']
    if p['netns']:
        args += ['--netns', p['netns']]

    if p['state'] == 'checked':
        rc, data, _, err = cli.run(args, ok=(0, 3))
        drift = (data or {}).get('drift', [])
        if rc == 3 and not drift:
            cli.fail(rc, err)
        if drift:
            module.fail_json(msg='vnet-virt: the host differs from the records: ' + '; '.join(d['message'] for d in drift),
                             drift=drift, commands=cli.commands)
        module.exit_json(changed=False, drift=[], commands=cli.commands)

    if p['state'] == 'present':
        if p['adopt']:
            args.append('--adopt')
        if p['create_bridge']:
            args.append('--create-bridge')
    if module.check_mode:
        args.append('--dry-run')
    _, data, _, _ = cli.run(args)
    steps = data.get('steps', [])
    result = dict(changed=bool(steps), steps=steps, notes=data.get('notes', []), commands=cli.commands)
    if module._diff and steps:
        verb = '+' if p['state'] == 'present' else '-'
        result['diff'] = dict(prepared='\n'.join('%s %s: %s  (%s)' % (verb, s['device'], s['description'], s['command'])
                                                  for s in steps) + '\n')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
