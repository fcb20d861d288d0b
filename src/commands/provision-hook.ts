// attach-* --provision: the host side is made real before the XML is written.
import { usageError } from '../errors.js';
import type { BeforeWrite } from './attach.js';

export function provisionBeforeWrite(_opts: { netns?: string; createBridge?: boolean }): BeforeWrite {
  return async () => {
    throw usageError('E_NOT_IMPLEMENTED', '--provision is not implemented yet');
  };
}
