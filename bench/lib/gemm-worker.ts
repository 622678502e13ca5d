/**
 * A worker thread of the GEMM chain's session-per-core layout (bench/lib/gemm-bound.ts): one
 * single-threaded ORT session, as each of sbertkit's encoder workers has, running the rows it is sent.
 */
import {parentPort, workerData} from 'node:worker_threads';
import {loadOrt} from '../../src/onnx/runtime.js';

const {graph, hidden, blockRows} = workerData as {graph: Uint8Array; hidden: number; blockRows: number};
const ort = await loadOrt();
const session = await ort.InferenceSession.create(graph, {intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all'});
const block = new Float32Array(blockRows * hidden);
for (let i = 0; i < block.length; i++) block[i] = Math.sin(i) * 0.5;

parentPort!.on('message', async (message: {rows: number[]} | 'close') => {
  if (message === 'close') {
    await session.release();
    parentPort!.close();
    return;
  }
  for (const n of message.rows) {
    const out = await session.run({x: new ort.Tensor('float32', block.subarray(0, n * hidden), [n, hidden])});
    for (const tensor of Object.values(out)) tensor.dispose();
  }
  parentPort!.postMessage('done');
});
parentPort!.postMessage('ready');
