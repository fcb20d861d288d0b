// detach: remove an interface, chosen by MAC or target device, and its record entry.
import { inputError, usageError } from '../errors.js';
import { interfacesOf } from '../domain/interfaces.js';
import { removeInterface, removeRecordEntry } from '../domain/patch.js';
import { checkIfname, checkMac } from './attach.js';
import { emitDocument, readDomain } from './io.js';
import type { OutputOptions } from './io.js';

export interface DetachOptions extends OutputOptions {
  mac?: string;
  target?: string;
}

export async function runDetach(input: string, opts: DetachOptions, out: (s: string) => void): Promise<void> {
  if ((opts.mac === undefined) === (opts.target === undefined))
    throw usageError('E_USAGE', 'detach needs exactly one of --mac MAC or --target DEV', { where: '--mac' });
  const mac = opts.mac !== undefined ? checkMac(opts.mac) : undefined;
  const target = opts.target !== undefined ? checkIfname(opts.target, '--target') : undefined;
  const doc = readDomain(input);
  const hits = interfacesOf(doc).filter((i) =>
    mac !== undefined ? i.mac === mac : i.targetDev === target || ('sourceDev' in i && i.type === 'direct' && i.sourceDev === target),
  );
  const what = mac !== undefined ? `MAC ${mac}` : `target dev '${target}'`;
  if (hits.length === 0)
    throw inputError('E_NOT_FOUND', `no interface with ${what}`, { file: doc.file, where: '/domain/devices', hint: 'list them with: grep -n "<interface" FILE' });
  if (hits.length > 1)
    throw inputError('E_AMBIGUOUS', `${hits.length} interfaces have ${what}`, { file: doc.file, where: hits[1]!.xpath, hint: 'detach by --mac instead' });
  const hit = hits[0]!;
  let after = removeInterface(doc, hit.index);
  if (hit.targetDev) after = removeRecordEntry(after, hit.targetDev);
  const where = await emitDocument(input, doc.text, after.text, opts, out);
  if (opts.json)
    out(
      JSON.stringify({
        command: 'detach',
        file: doc.file,
        action: 'removed',
        interface: { type: hit.type, dev: hit.targetDev ?? ('sourceDev' in hit ? hit.sourceDev : undefined), mac: hit.mac, xpath: hit.xpath },
        output: where ?? null,
        ...(where === '-' && { xml: after.text }),
      }) + '\n',
    );
}
