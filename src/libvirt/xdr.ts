// XDR (RFC 4506), the few types libvirt's remote protocol uses here: 32-bit
// ints, strings, optional strings (a pointer: a 0/1 word, then the string),
// fixed opaque data (UUIDs) and counted arrays. Big-endian, 4-byte aligned.

export class XdrWriter {
  private buf = Buffer.alloc(256);
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** Fixed-length opaque data (no length word), padded to 4 bytes. */
  fixed(data: Uint8Array): this {
    const padded = (data.length + 3) & ~3;
    this.room(padded);
    this.buf.set(data, this.pos);
    this.buf.fill(0, this.pos + data.length, this.pos + padded);
    this.pos += padded;
    return this;
  }

  string(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.uint(b.length).fixed(b);
  }

  /** remote_string: a string that may be NULL. */
  optString(s: string | undefined): this {
    return s === undefined ? this.uint(0) : this.uint(1).string(s);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export class XdrError extends Error {}

export class XdrReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new XdrError(`a reply from libvirt ended early (${n} bytes wanted at ${this.pos} of ${this.buf.length})`);
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  fixed(n: number): Buffer {
    const padded = (n + 3) & ~3;
    this.need(padded);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += padded;
    return b;
  }

  string(): string {
    return this.fixed(this.uint()).toString('utf8');
  }

  optString(): string | undefined {
    return this.bool() ? this.string() : undefined;
  }

  bool(): boolean {
    const v = this.uint();
    if (v > 1) throw new XdrError(`a reply from libvirt has ${v} where a boolean belongs`);
    return v === 1;
  }

  array<T>(item: (r: XdrReader) => T, max: number): T[] {
    const n = this.uint();
    if (n > max) throw new XdrError(`a reply from libvirt lists ${n} items (at most ${max} expected)`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }
}
