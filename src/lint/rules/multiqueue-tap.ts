// QEMU opens one fd per queue; a tap made without multi_queue gives it only one.
import { child } from '../../domain/xml.js';
import { at, liveLink, where } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'multiqueue-tap';
export const severity = 'warning';
export const description = '--host: <driver queues> > 1 on a tap created without multi_queue';
export const hostOnly = true;

export function check(ctx: FileContext, r: Reporter): void {
  if (!ctx.host) return;
  for (const i of ctx.interfaces) {
    if (i.queues === undefined || i.queues <= 1 || !i.targetDev) continue;
    const live = liveLink(ctx, i.targetDev);
    if (live?.kind !== 'tap' || live.multiQueue !== false) continue;
    const driver = child(i.el, 'driver');
    r.report({
      ...(driver ? at(driver) : { line: i.line, xpath: i.xpath }),
      message: `<driver queues="${i.queues}"> but tap '${i.targetDev}'${where(ctx)} was created without multi_queue: QEMU cannot open ${i.queues} queues on it`,
      hint: `recreate it with: ip tuntap add dev ${i.targetDev} mode tap multi_queue (or drop queues)`,
    });
  }
}
