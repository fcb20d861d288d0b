// libvirt's own RPC protocol over its local UNIX socket, for the few calls
// vnet-virt makes (see docs/design.md for why not virsh on this path, and why
// not a library). The wire format is libvirt's remote_protocol.x: each message
// is a 4-byte length (itself included), a header of six 32-bit words (program,
// version, procedure, type, serial, status) and an XDR body. Replies carry the
// serial of their call, so calls can be in flight together.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { XdrError, XdrReader, XdrWriter } from './xdr.js';

const REMOTE_PROGRAM = 0x20008086;
const REMOTE_VERSION = 1;
const HEADER_BYTES = 4 + 6 * 4;
/** libvirt's own cap on one message (VIR_NET_MESSAGE_MAX, 32 MiB). */
const MESSAGE_MAX = 32 * 1024 * 1024;

const enum MsgType {
  call = 0,
  reply = 1,
}
const enum MsgStatus {
  ok = 0,
  error = 1,
}

/** The procedures used here (numbers from remote_protocol.x; they never change). */
export const Proc = {
  connectOpen: 1,
  domainDefineXml: 11,
  domainGetXmlDesc: 14,
  domainLookupById: 22,
  domainLookupByName: 23,
  domainLookupByUuid: 24,
  authList: 66,
  authPolkit: 70,
  domainIsPersistent: 151,
  domainAttachDeviceFlags: 160,
  domainDetachDeviceFlags: 161,
  domainGetState: 212,
  domainSetMetadata: 264,
  connectListAllDomains: 273,
} as const;

export const AUTH_NONE = 0;
export const AUTH_POLKIT = 2;

/** virErrorNumber values this client tells apart. */
export const VIR_ERR_NO_DOMAIN = 42;

/** remote_error: what the daemon said, verbatim. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly domain: number,
    readonly proc: number,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** The socket could not be reached, or broke: libvirt's own words for it. */
export class RpcTransportError extends Error {
  constructor(
    message: string,
    readonly errno: string | undefined,
  ) {
    super(message);
    this.name = 'RpcTransportError';
  }
}

/** remote_nonnull_domain: how calls name a domain. */
export interface RemoteDomain {
  name: string;
  uuid: Buffer;
  id: number;
}

export function writeDomain(w: XdrWriter, d: RemoteDomain): XdrWriter {
  return w.string(d.name).fixed(d.uuid).int(d.id);
}

export function readDomain(r: XdrReader): RemoteDomain {
  return { name: r.string(), uuid: Buffer.from(r.fixed(16)), id: r.int() };
}

/** One message on the wire. */
export function frame(proc: number, serial: number, body: Uint8Array): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32BE(HEADER_BYTES + body.length, 0);
  head.writeUInt32BE(REMOTE_PROGRAM, 4);
  head.writeUInt32BE(REMOTE_VERSION, 8);
  head.writeInt32BE(proc, 12);
  head.writeInt32BE(MsgType.call, 16);
  head.writeUInt32BE(serial, 20);
  head.writeInt32BE(MsgStatus.ok, 24);
  return Buffer.concat([head, body]);
}

/** remote_error from a reply body. */
export function readError(body: Buffer, proc: number): RpcError {
  const r = new XdrReader(body);
  const code = r.int();
  const domain = r.int();
  const message = r.optString();
  return new RpcError(message ?? `libvirt error ${code}`, code, domain, proc);
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ENOTSOCK: 'Socket operation on non-socket',
  ECONNRESET: 'Connection reset by peer',
  EPIPE: 'Broken pipe',
};

interface Pending {
  proc: number;
  resolve: (r: XdrReader) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class RpcClient {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private broken: Error | undefined;

  private constructor(
    private readonly sock: Socket,
    readonly path: string,
    private readonly timeoutMs: number,
  ) {
    // A pending call's timer keeps the process alive; an idle connection must not.
    sock.unref();
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e: NodeJS.ErrnoException) => this.fail(new RpcTransportError(`libvirt's socket ${path} failed: ${STRERROR[e.code ?? ''] ?? e.message}`, e.code)));
    sock.on('close', () => this.fail(new RpcTransportError(`libvirt closed the connection (${path})`, undefined)));
  }

  /** Connects to the socket; a socket that is not there is libvirt's "Failed to connect socket" error. */
  static open(path: string, timeoutMs: number): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ path });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new RpcTransportError(`Failed to connect socket to '${path}': no answer within ${timeoutMs / 1000} s`, 'ETIMEDOUT'));
      }, timeoutMs);
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new RpcTransportError(`Failed to connect socket to '${path}': ${STRERROR[e.code ?? ''] ?? e.message}`, e.code));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new RpcClient(sock, path, timeoutMs));
      });
    });
  }

  /** Sends one call; resolves with a reader on its reply body, or rejects with the daemon's error. */
  call(proc: number, body: XdrWriter | undefined, what = `procedure ${proc}`): Promise<XdrReader> {
    if (this.broken) return Promise.reject(this.broken);
    const serial = ++this.serial;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        reject(new RpcTransportError(`libvirt did not answer ${what} within ${this.timeoutMs / 1000} s`, 'ETIMEDOUT'));
      }, this.timeoutMs);
      this.pending.set(serial, { proc, resolve, reject, timer });
      this.sock.write(frame(proc, serial, body ? body.bytes() : Buffer.alloc(0)));
    });
  }

  close(): void {
    this.broken ??= new RpcTransportError('the connection to libvirt is closed', undefined);
    this.sock.destroy();
  }

  private fail(e: Error): void {
    if (!this.broken) this.broken = e;
    for (const [serial, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(serial);
      p.reject(this.broken);
    }
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    for (;;) {
      if (this.buffered < 4) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [all];
      const len = all.readUInt32BE(0);
      if (len < HEADER_BYTES || len > MESSAGE_MAX) {
        this.fail(new RpcTransportError(`libvirt sent a message of ${len} bytes: not libvirt's protocol (${this.path})`, undefined));
        this.sock.destroy();
        return;
      }
      if (this.buffered < len) return;
      const msg = all.subarray(0, len);
      const rest = all.subarray(len);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      this.onMessage(msg);
    }
  }

  private onMessage(msg: Buffer): void {
    const prog = msg.readUInt32BE(4);
    const type = msg.readInt32BE(16);
    const serial = msg.readUInt32BE(20);
    const status = msg.readInt32BE(24);
    // Events and other programs' messages (keepalive) are not asked for; a reply to no call is ignored too.
    if (prog !== REMOTE_PROGRAM || type !== MsgType.reply) return;
    const p = this.pending.get(serial);
    if (!p) return;
    this.pending.delete(serial);
    clearTimeout(p.timer);
    const body = Buffer.from(msg.subarray(HEADER_BYTES));
    try {
      if (status === MsgStatus.ok) p.resolve(new XdrReader(body));
      else p.reject(readError(body, p.proc));
    } catch (e) {
      p.reject(e instanceof XdrError ? new RpcTransportError(e.message, undefined) : (e as Error));
    }
  }
}
