// A Plan is an ordered list of Steps: the exact ip argv, and the argv that undoes it.
import type { Link } from './facts.js';

/** What a step changes, so the executor can tell afterwards whether it happened. */
export type Effect =
  | { type: 'create'; device: string }
  | { type: 'delete'; device: string }
  | { type: 'set'; device: string; field: 'alias' | 'master' | 'up' | 'mtu' | 'mac' | 'mode'; value: string | number | boolean | undefined };

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
}

/** Has a step's effect happened, judging from the device as it is now (undefined: absent)? */
export function effectVisible(effect: Effect, link: Link | undefined): boolean {
  switch (effect.type) {
    case 'create':
      return link !== undefined;
    case 'delete':
      return link === undefined;
    case 'set':
      return link !== undefined && link[effect.field] === effect.value;
  }
}
