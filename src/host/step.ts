// A Plan is an ordered list of Steps: the exact ip argv, and the argv that undoes it.
import type { Link } from './facts.js';
import type { JournalEntry } from './journal.js';

/** What a step changes, so the executor can tell afterwards whether it happened. */
export type Effect =
  | { type: 'create'; device: string }
  | { type: 'delete'; device: string }
  /** One `ip link del group G` deleting all these devices at once. */
  | { type: 'delete-group'; device: string; devices: string[] }
  | { type: 'set'; device: string; field: 'alias' | 'master' | 'up' | 'mtu' | 'mac' | 'mode' | 'group'; value: string | number | boolean | undefined }
  /** An IP address added to a device (container commands); HostFacts carry no addresses. */
  | { type: 'address'; device: string; address: string };

export interface Step {
  /** The whole command: `ip [-n NS] ...`. */
  argv: string[];
  /** The command that reverses it; null when the undo of an earlier step (the device's deletion) covers it. */
  undo: string[] | null;
  /** What the undo brings back (checked when ip stops without naming the failed line). */
  undoEffect: Effect | null;
  device: string;
  description: string;
  /** The domain's name (or file) and the interface (its target dev) this step is for. */
  domain: string;
  file: string;
  iface: string | undefined;
  effect: Effect;
}

/** Something a plan leaves alone on purpose and says so (down: a device that is not ours). */
export interface Note {
  domain: string;
  file: string;
  device: string;
  iface: string | undefined;
  message: string;
}

export interface Plan {
  /** up: all or nothing. down: every deletion is tried; a failed one is a leftover. */
  kind: 'up' | 'down';
  netns: string | undefined;
  steps: Step[];
  notes: Note[];
  /** up: the devices it creates, for the journal written before the first one exists. */
  creates?: JournalEntry[] | undefined;
}

/** Has a step's effect happened, judging from the host as it is now? */
export function effectVisible(effect: Effect, links: ReadonlyMap<string, Link>): boolean {
  const link = links.get(effect.device);
  switch (effect.type) {
    case 'delete-group':
      return effect.devices.every((d) => !links.has(d));
    case 'create':
      return link !== undefined;
    case 'delete':
      return link === undefined;
    case 'set':
      return link !== undefined && link[effect.field] === effect.value;
    case 'address':
      return false;
  }
}
