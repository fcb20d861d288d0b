// Spreads files over the main thread and worker threads. Each lane compiles
// the schema once; small batches keep the lanes busy until the very end.
import { Worker } from 'node:worker_threads';
import { lintItem, openLane } from './lane.js';
import type { ItemResult, LaneConfig, WorkItem } from './lane.js';

/** Files per batch: small with workers (they must never wait), larger alone (a yield only lets events in). */
const BATCH_SHARED = 16;
const BATCH_ALONE = 64;
/** Batches a worker holds at once, so it never waits for the main thread to hand out the next. */
const IN_FLIGHT = 2;

const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Helper {
  worker: Worker;
  /** Item indexes of the batches sent and not yet answered, oldest first. */
  sent: number[][];
  settled: Promise<void>;
  settle: () => void;
}

export async function lintItems(
  items: WorkItem[],
  config: LaneConfig,
  workers: number,
  onProgress: (done: number) => void = () => {},
): Promise<ItemResult[]> {
  const results: ItemResult[] = new Array(items.length);
  let next = 0;
  let done = 0;
  let failure: unknown;
  const size = workers > 0 ? BATCH_SHARED : BATCH_ALONE;
  const take = (): WorkItem[] | undefined => {
    // stdin items carry bytes the workers do not have: the main thread keeps them.
    const batch: WorkItem[] = [];
    while (next < items.length && batch.length < size && !items[next]!.data) batch.push(items[next++]!);
    return batch.length ? batch : undefined;
  };
  const store = (batch: ItemResult[], indexes: number[]): void => {
    batch.forEach((r, i) => (results[indexes[i]!] = r));
    done += batch.length;
    onProgress(done);
  };

  const helpers: Helper[] = [];
  for (let n = 0; n < workers; n++) {
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const h: Helper = { worker: new Worker(new URL('./worker.js', import.meta.url), { workerData: config }), sent: [], settled, settle };
    const feed = (): void => {
      while (h.sent.length < IN_FLIGHT && failure === undefined) {
        const batch = take();
        if (!batch) break;
        h.sent.push(batch.map((b) => b.index));
        h.worker.postMessage(batch);
      }
      if (h.sent.length === 0) h.settle();
    };
    // A worker is fed only once its schema is compiled; until then the main thread takes the files.
    h.worker.on('message', (batch: ItemResult[] | 'ready') => {
      if (batch !== 'ready') store(batch, h.sent.shift()!);
      feed();
    });
    h.worker.on('error', (e) => {
      failure ??= e;
      h.settle();
    });
    helpers.push(h);
  }

  try {
    const setup = await openLane(config);
    for (const item of items) if (item.data) store([lintItem(item, setup)], [item.index]);
    for (let batch = take(); batch && failure === undefined; batch = take()) {
      store(
        batch.map((item) => lintItem(item, setup)),
        batch.map((b) => b.index),
      );
      await yieldToEvents();
    }
    // Workers still starting up get nothing more: they are not waited for.
    for (const h of helpers) if (h.sent.length === 0) h.settle();
    await Promise.all(helpers.map((h) => h.settled));
  } finally {
    await Promise.all(helpers.map((h) => h.worker.terminate()));
  }
  if (failure !== undefined) throw failure;
  return results;
}
