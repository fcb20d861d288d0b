// attach-* --provision: the host side is made real before the XML is written;
// when it fails, runAttach stops before writing and the host is as before.
import type { BeforeWrite } from './attach.js';
import { stderrLog } from './up.js';

export function provisionBeforeWrite(opts: { netns?: string; createBridge?: boolean }): BeforeWrite {
  return async (result) => {
    const { up } = await import('../host/provision.js');
    // Only the new interface: a drifted neighbour must not block this attach.
    await up([result.after], { netns: opts.netns, createBridge: opts.createBridge, interfaces: [result.spec.dev], log: stderrLog });
  };
}
