// The kernel refuses such a name, so the device can never be created or found.
import { ifnameProblem } from '../../domain/names.js';
import { attr, child } from '../../domain/xml.js';
import { at, targetPlace } from '../helpers.js';
import type { FileContext, Reporter } from '../types.js';

export const id = 'ifname-invalid';
export const severity = 'error';
export const description = "interface name over 15 bytes, or with '/', white space or ':', or '.'/'..'";

const HINT = 'use 1-15 bytes of letters, digits, - and _ (Linux IFNAMSIZ is 16 with the final NUL)';

export function check(ctx: FileContext, r: Reporter): void {
  const judge = (name: string | undefined, what: string, place: { line: number; xpath: string }): void => {
    if (name === undefined) return;
    const problem = ifnameProblem(name);
    if (problem) r.report({ ...place, message: `${what} '${name}' ${problem}`, hint: HINT });
  };
  for (const i of ctx.interfaces) {
    judge(i.targetDev, 'target dev', targetPlace(i));
    const source = child(i.el, 'source');
    if (!source) continue;
    if (i.type === 'direct') judge(attr(source, 'dev'), 'source dev', at(source));
    if (i.type === 'bridge') judge(attr(source, 'bridge'), 'source bridge', at(source));
  }
  for (const { entry, el } of ctx.record?.entries ?? []) {
    const place = at(el);
    judge(entry.dev, 'recorded dev', place);
    judge(entry.bridge, 'recorded bridge', place);
    if (entry.kind === 'macvtap') {
      judge(entry.lower, 'recorded lower', place);
      judge(entry.vethPeer, 'recorded veth-peer', place);
    }
  }
}
