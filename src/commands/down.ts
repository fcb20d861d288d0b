// vnet-virt down: delete the devices that carry the domains' markers.
import { hostDomains, printReport, provisionOptions } from './up.js';
import type { HostCommandOptions } from './up.js';

export async function runDown(inputs: string[], opts: HostCommandOptions, out: (s: string) => void): Promise<void> {
  const { domains } = await hostDomains(inputs, opts, 'persistent');
  const { down } = await import('../host/provision.js');
  printReport(await down(domains, provisionOptions(opts)), opts.json, out);
}
