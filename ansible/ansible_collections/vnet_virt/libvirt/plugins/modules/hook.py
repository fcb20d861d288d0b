#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: hook
short_description: vnet-virt's libvirt qemu hook present or absent
version_added: "0.1.0"
description:
  - Installs or removes vnet-virt's qemu hook (C(vnet-virt hook install) / C(hook uninstall)) in a libvirt hooks
    directory. With the hook, libvirt creates a domain's recorded devices at start and on the destination of a live
    migration, and deletes them when the guest stops or has left.
  - The module first runs the command on a copy of the hook files and compares; only when a file would change does it
    run on I(hooks_dir). So a second run reports no change, check mode changes nothing, and diff mode shows the hook
    script before and after.
  - A file vnet-virt did not write is never overwritten unless I(force) is set (the task fails with vnet-virt's
    message).
author:
  - vnet-virt contributors
options:
  state:
    description: Whether the hook is installed.
    type: str
    choices: [present, absent]
    default: present
  hooks_dir:
    description: libvirt's hooks directory.
    type: path
    default: /etc/libvirt/hooks
  reload:
    description:
      - After a change, send SIGHUP to the libvirt daemons (libvirtd, virtqemud) of this host, so that they see a hook
        that was not there when they started. Only daemons in the module's own mount and network namespace are
        signalled (on a machine that runs several libvirt hosts in namespaces, only this host's).
    type: bool
    default: true
  timeout:
    description: Seconds a hook call may take (C(--timeout)).
    type: int
  grace:
    description: Seconds an aborted call gets to undo (C(--grace)).
    type: int
  log:
    description: Log file, C(syslog) or C(none) (C(--log)).
    type: str
  create_bridge:
    description: The hook creates a missing bridge the record names (C(--create-bridge)).
    type: bool
    default: false
  lock:
    description: Name of the lock hook calls take (C(--lock)).
    type: str
  config:
    description: Config file the hook reads (C(--config)).
    type: path
  force:
    description: Overwrite a hook file of the same name that vnet-virt did not write.
    type: bool
    default: false
  libvirt_version:
    description: Lay out files for this libvirt version (default, what C(libvirtd --version) says).
    type: str
  bin:
    description: Path of the vnet-virt executable. Default, C(VNET_VIRT_BIN), then C(vnet-virt) on PATH.
    type: path
notes:
  - The installed hook runs the Node.js and the vnet-virt that ran the install; install again after moving either.
seealso:
  - module: vnet_virt.libvirt.devices
'''

EXAMPLES = r'''
- name: vnet-virt's hook, logging to syslog
  vnet_virt.libvirt.hook:
    log: syslog

- name: No hook
  vnet_virt.libvirt.hook:
    state: absent
'''

RETURN = r'''
files:
  description: The hook files that changed (or would change).
  returned: always
  type: list
  elements: str
reloaded:
  description: PIDs of the libvirt daemons sent SIGHUP.
  returned: always
  type: list
  elements: int
lines:
  description: What vnet-virt printed (where it installed, what to reload).
  returned: when it ran on hooks_dir
  type: list
  elements: str
'''

import os
import shutil
import signal
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vnet_virt.libvirt.plugins.module_utils.vnet_virt import COMMON_ARGS, Cli

# What hook install/uninstall may write or remove (src/hook/install.ts paths()).
HOOK_FILES = ['qemu', os.path.join('qemu.d', 'vnet-virt'), 'vnet-virt-qemu']
DAEMONS = ('libvirtd', 'virtqemud')


def snapshot(root):
    """{relative path: (text, mode)} of the hook files present under root."""
    found = {}
    for rel in HOOK_FILES:
        path = os.path.join(root, rel)
        if os.path.isfile(path):
            with open(path, 'rb') as f:
                found[rel] = (f.read().decode('utf-8', 'replace'), os.stat(path).st_mode & 0o7777)
    return found


def command(p, hooks_dir):
    if p['state'] == 'absent':
        return ['hook', 'uninstall', '--hooks-dir', hooks_dir]
    args = ['hook', 'install', '--hooks-dir', hooks_dir]
    for key in ('timeout', 'grace', 'log', 'lock', 'config', 'libvirt_version'):
        if p[key] is not None:
            args += ['--' + key.replace('_', '-'), str(p[key])]
    for key in ('create_bridge', 'force'):
        if p[key]:
            args.append('--' + key.replace('_', '-'))
    return args


def same_ns(pid):
    try:
        return all(os.readlink('/proc/%d/ns/%s' % (pid, ns)) == os.readlink('/proc/self/ns/%s' % ns) for ns in ('mnt', 'net'))
    except OSError:
        return False


def reload_daemons():
    """SIGHUP to this host's libvirt daemons: only those sharing our mount and network namespace."""
    sent = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open('/proc/%d/comm' % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in DAEMONS and same_ns(pid):
            try:
                os.kill(pid, signal.SIGHUP)
                sent.append(pid)
            except OSError:
                pass
    return sent


def main():
    spec = dict(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        hooks_dir=dict(type='path', default='/etc/libvirt/hooks'),
        reload=dict(type='bool', default=True),
        timeout=dict(type='int'), grace=dict(type='int'), log=dict(type='str'),
        create_bridge=dict(type='bool', default=False), lock=dict(type='str'), config=dict(type='path'),
        force=dict(type='bool', default=False), libvirt_version=dict(type='str'),
    )
    spec.update(COMMON_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    cli = Cli(module)
    hooks_dir = p['hooks_dir']

    before = snapshot(hooks_dir)
    trial = tempfile.mkdtemp(prefix='vnet-virt-hook-')
    try:
        for rel, (text, mode) in before.items():
            dst = os.path.join(trial, rel)
            if not os.path.isdir(os.path.dirname(dst)):
                os.makedirs(os.path.dirname(dst))
            shutil.copyfile(os.path.join(hooks_dir, rel), dst)
            os.chmod(dst, mode)
        cli.run(command(p, trial))
        after = snapshot(trial)
    finally:
        shutil.rmtree(trial, ignore_errors=True)

    files = sorted(os.path.join(hooks_dir, rel) for rel in set(before) | set(after) if before.get(rel) != after.get(rel))
    result = dict(changed=bool(files), files=files, reloaded=[], commands=cli.commands)
    if files and module._diff:
        result['diff'] = [dict(before_header=os.path.join(hooks_dir, rel), after_header=os.path.join(hooks_dir, rel),
                               before=before.get(rel, ('', 0))[0], after=after.get(rel, ('', 0))[0])
                          for rel in sorted(set(before) | set(after)) if before.get(rel) != after.get(rel)]
    if files and not module.check_mode:
        _, out, _ = cli.run(command(p, hooks_dir))[1:]
        result['lines'] = out.splitlines()
        if p['reload']:
            result['reloaded'] = reload_daemons()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
