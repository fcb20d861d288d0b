// passthrough hands the whole source device to one guest; a second one on it cannot start.
import { at, othersList } from '../helpers.js';
import { child } from '../../domain/xml.js';
import type { Claim, FileContext, Reporter } from '../types.js';

export const id = 'passthrough-shared';
export const severity = 'error';
export const description = 'two direct interfaces in passthrough mode on one source device, across files too';

export function check(ctx: FileContext, r: Reporter): void {
  for (const i of ctx.interfaces) {
    if (i.type !== 'direct' || !('sourceMode' in i) || !i.sourceDev) continue;
    if (i.sourceMode !== 'passthrough' && i.sourceMode !== 'passthru') continue;
    const source = child(i.el, 'source');
    r.claim(i.sourceDev, source ? at(source) : { line: i.line, xpath: i.xpath });
  }
}

export function conflict(claim: Claim, others: Claim[], total: number): { message: string; hint: string } {
  return {
    message: `source dev '${claim.key}' is given in passthrough mode here and at ${othersList(claim, others, total)}; passthrough takes the whole device for one interface`,
    hint: 'give each passthrough interface its own device (e.g. its own SR-IOV VF), or use mode="bridge" to share one',
  };
}
