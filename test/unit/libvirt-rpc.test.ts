// libvirt's RPC protocol against a stand-in daemon on a UNIX socket: framing
// (replies split across reads, several in one read, out of order), events
// that nobody asked for, the daemon's errors kept verbatim, and which URIs
// take this path at all. The real daemon is in the system tier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { formatUuid, localSocket, parseUuid, RpcLibvirt } from '../../src/libvirt/conn.js';
import { Proc, VIR_ERR_NO_DOMAIN } from '../../src/libvirt/rpc.js';
import { VnetError } from '../../src/errors.js';
import { XdrReader, XdrWriter } from '../../src/libvirt/xdr.js';
import { tempDir } from '../helpers.js';

const PROGRAM = 0x20008086;
const UUID = '11111111-2222-3333-4444-555555555555';

function message(proc: number, type: number, serial: number, status: number, body: Buffer): Buffer {
  const head = Buffer.alloc(28);
  head.writeUInt32BE(28 + body.length, 0);
  head.writeUInt32BE(PROGRAM, 4);
  head.writeUInt32BE(1, 8);
  head.writeInt32BE(proc, 12);
  head.writeInt32BE(type, 16);
  head.writeUInt32BE(serial, 20);
  head.writeInt32BE(status, 24);
  return Buffer.concat([head, body]);
}

const domainBody = (name: string): XdrWriter => new XdrWriter().string(name).fixed(parseUuid(UUID)!).int(3);

/** A daemon that knows one running domain 'web1'; it answers in odd ways on purpose. */
async function standIn(dir: string): Promise<{ path: string; seen: number[]; close: () => void }> {
  const path = join(dir, 'libvirt-sock');
  const seen: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    let buf = Buffer.alloc(0);
    let held: Buffer | undefined;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        const proc = msg.readInt32BE(12);
        const serial = msg.readUInt32BE(20);
        const args = new XdrReader(Buffer.from(msg.subarray(28)));
        seen.push(proc);
        const ok = (w: XdrWriter): Buffer => message(proc, 1, serial, 0, w.bytes());
        let reply: Buffer;
        switch (proc) {
          case Proc.authList:
            reply = ok(new XdrWriter().uint(1).int(0));
            break;
          case Proc.connectOpen:
            // An event first: the client must skip it.
            s.write(message(107, 2, 0, 0, domainBody('web1').int(5).int(0).bytes()));
            reply = ok(new XdrWriter());
            break;
          case Proc.domainLookupByName: {
            const name = args.string();
            reply =
              name === 'web1'
                ? ok(domainBody('web1'))
                : message(proc, 1, serial, 1, new XdrWriter().int(VIR_ERR_NO_DOMAIN).int(10).optString(`Domain not found: no domain with matching name '${name}'`).int(2).uint(0).uint(0).uint(0).uint(0).int(0).int(0).uint(0).bytes());
            break;
          }
          case Proc.domainGetState:
            // Held back, so that the next reply overtakes it.
            held = ok(new XdrWriter().int(1).int(1));
            continue;
          case Proc.domainIsPersistent:
            reply = Buffer.concat([ok(new XdrWriter().int(1)), held!]);
            break;
          case Proc.domainGetXmlDesc: {
            args.string();
            args.fixed(16);
            args.int();
            reply = ok(new XdrWriter().string(`<domain><name>web1</name><!-- flags ${args.uint()} --></domain>`));
            break;
          }
          case Proc.domainDefineXml:
            reply = message(proc, 1, serial, 1, new XdrWriter().int(27).int(10).optString("XML error: the daemon's own words").int(2).uint(0).uint(0).uint(0).uint(0).int(0).int(0).uint(0).bytes());
            break;
          default:
            reply = ok(new XdrWriter());
        }
        // One byte at a time: the client must reassemble.
        for (let i = 0; i < reply.length; i++) s.write(reply.subarray(i, i + 1));
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    seen,
    close: () => {
      sockets.forEach((s) => s.destroy());
      server.close();
    },
  };
}

test('RPC: open, lookup, state, XML and errors against a stand-in daemon; the daemon words are kept', async () => {
  const tmp = tempDir('vnet-rpc-');
  const d = await standIn(tmp.dir);
  try {
    const uri = `qemu+unix:///system?socket=${d.path}`;
    const conn = (await RpcLibvirt.open(uri, d.path))!;
    assert.ok(conn);
    const info = await conn.lookup('web1');
    assert.deepEqual(info, { name: 'web1', uuid: UUID, state: 'running', persistent: true, label: `${uri}/web1` });
    assert.match(await conn.dumpxml(UUID, 'persistent', info.label), /<!-- flags 2 -->/);
    assert.match(await conn.dumpxml(UUID, 'live', info.label), /<!-- flags 0 -->/);
    // Looked up once: the UUID maps to the domain found by name.
    assert.equal(d.seen.filter((p) => p === Proc.domainLookupByName).length, 1);
    await assert.rejects(conn.lookup('nope'), (e: VnetError) => e.code === 'E_DOMAIN_UNKNOWN' && e.exitCode === 3 && /no domain 'nope' at /.test(e.message));
    await assert.rejects(conn.define('<domain/>', info.label), (e: VnetError) => e.code === 'E_VIRSH_FAILED' && e.message === "define failed: XML error: the daemon's own words");
    conn.close();
    await assert.rejects(conn.lookup('web1'), (e: VnetError) => e.code === 'E_LIBVIRT_UNREACHABLE');
  } finally {
    d.close();
    tmp.cleanup();
  }
});

test('RPC: a socket that is not there is libvirt\'s "Failed to connect socket" (exit 1, one line)', async () => {
  await assert.rejects(RpcLibvirt.open('qemu+unix:///system?socket=/nonexistent/sock', '/nonexistent/sock'), (e: VnetError) => {
    assert.equal(e.code, 'E_LIBVIRT_UNREACHABLE');
    assert.equal(e.exitCode, 1);
    assert.equal(e.message, "cannot reach libvirt at qemu+unix:///system?socket=/nonexistent/sock: failed to connect to the hypervisor; Failed to connect socket to '/nonexistent/sock': No such file or directory");
    return true;
  });
});

test('which URIs the RPC client serves (the local socket), and UUIDs as libvirt writes them', () => {
  const none = (): boolean => false;
  assert.equal(localSocket('qemu:///system', none), '/run/libvirt/libvirt-sock');
  assert.equal(localSocket('qemu:///system', (p) => p.endsWith('virtqemud-sock')), '/run/libvirt/virtqemud-sock');
  assert.equal(localSocket('qemu+unix:///system?socket=/tmp/x/libvirt-sock', none), '/tmp/x/libvirt-sock');
  for (const other of ['qemu+ssh://host/system', 'qemu:///session', 'qemu+tls://h/system', 'test:///default', 'qemu+unix:///system?socket=/x&mode=legacy', 'myalias'])
    assert.equal(localSocket(other, none), undefined, other);
  assert.equal(formatUuid(parseUuid(UUID.replace(/-/g, ''))!), UUID);
  assert.equal(parseUuid('web1'), undefined);
});
