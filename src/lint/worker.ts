// A worker thread of lint: compiles the schema once, then lints the batches it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { lintItem, openLane } from './lane.js';
import type { LaneConfig, WorkItem } from './lane.js';

const setup = await openLane(workerData as LaneConfig);
parentPort!.on('message', (batch: WorkItem[]) => {
  parentPort!.postMessage(batch.map((item) => lintItem(item, setup)));
});
parentPort!.postMessage('ready');
