# -*- coding: utf-8 -*-
# Shared plumbing of the vnet_virt.libvirt modules: find the vnet-virt CLI on
# the managed host, run it with --json, and turn its one-line error into msg.
# The modules hold no logic of their own about devices or XML: the CLI does.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.module_utils.basic import AnsibleModule

BIN_ENV = 'VNET_VIRT_BIN'

# Options every module accepts.
COMMON_ARGS = dict(
    bin=dict(type='path'),
)

# Where a domain comes from: a file on the managed host, or libvirt by name.
TARGET_ARGS = dict(
    uri=dict(type='str', default='qemu:///system'),
)


def domain_module(options, target, **kwargs):
    """An AnsibleModule with the common options and exactly one of the two `target` options (file(s) or name(s))."""
    spec = dict(options)
    spec.update(COMMON_ARGS)
    spec.update(TARGET_ARGS)
    return AnsibleModule(argument_spec=spec, mutually_exclusive=[target], required_one_of=[target],
                         supports_check_mode=True, **kwargs)


def find_bin(module):
    """The vnet-virt to run: the bin parameter, then $VNET_VIRT_BIN, then PATH."""
    explicit = module.params.get('bin') or os.environ.get(BIN_ENV)
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            module.fail_json(msg='vnet-virt: %s is not an executable file; fix the bin parameter or %s' % (explicit, BIN_ENV))
        return explicit
    found = module.get_bin_path('vnet-virt', opt_dirs=['/usr/local/bin', '/usr/local/sbin'])
    if not found:
        module.fail_json(msg='vnet-virt: not found on PATH; install it (role vnet_virt.libvirt.install), '
                             'or set the bin parameter or %s' % BIN_ENV)
    return found


def error_line(stderr, rc):
    """vnet-virt's one-line error: the last line of stderr that starts with 'vnet-virt:'."""
    lines = [l for l in (stderr or '').splitlines() if l.strip()]
    ours = [l for l in lines if l.startswith('vnet-virt:')]
    if ours:
        return ours[-1].strip()
    if lines:
        return lines[-1].strip()
    return 'vnet-virt exited with %d and printed nothing on stderr' % rc


class Cli(object):
    """Runs the installed vnet-virt; every call is recorded for the result's `commands`."""

    def __init__(self, module):
        self.module = module
        self.bin = find_bin(module)
        self.commands = []

    def run(self, args, ok=(0,)):
        """(rc, parsed JSON or None, stdout, stderr); fails the module unless rc is in ok."""
        argv = [self.bin] + list(args)
        self.commands.append(argv)
        rc, out, err = self.module.run_command(argv, environ_update={'LC_ALL': 'C.UTF-8'})
        if rc not in ok:
            self.fail(rc, err)
        data = None
        if '--json' in args and out.strip():
            try:
                data = json.loads(out)
            except ValueError:
                if rc == 0:
                    self.module.fail_json(msg='vnet-virt: --json printed no JSON: %s' % out[:200], rc=rc, cmd=argv)
        return rc, data, out, err

    def fail(self, rc, err, **extra):
        self.module.fail_json(msg=error_line(err, rc), rc=rc, stderr=err, commands=self.commands, **extra)


def domain_args(params):
    """The positional file, or --domain NAME -c URI (needs a vnet-virt that works on domains by name)."""
    if params.get('path'):
        return [params['path']]
    args = ['--domain', params['domain'], '-c', params['uri']]
    if params.get('live'):
        args.append('--live')
    return args
