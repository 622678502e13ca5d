/**
 * Worker-thread side of the session pool: one ONNX Runtime session per worker. onnxruntime-node's
 * run() occupies the calling JS thread, so sessions in separate workers are what lets batches run in
 * parallel.
 */
import {parentPort, workerData} from 'node:worker_threads';
import {SbertkitError} from '../errors.js';
import {OnnxSession, type EmbedJob} from './onnx-session.js';

const port = parentPort!;
const {onnxPath, threads} = workerData as {onnxPath: string; threads: number};

try {
  const session = await OnnxSession.create(onnxPath, {threads});
  port.postMessage({type: 'ready', outputName: session.outputName, wantsTokenTypeIds: session.wantsTokenTypeIds});
  port.on('message', async (message: {type: 'embed'; id: number; job: EmbedJob} | {type: 'close'}) => {
    if (message.type === 'close') {
      await session.close();
      port.close();
      return;
    }
    try {
      // Padding, pooling and normalizing here keep the main thread free to tokenize the next texts.
      const output = await session.embed(message.job);
      port.postMessage({type: 'result', id: message.id, output}, [output.data.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({type: 'error', id: message.id, error: serialize(error)});
    }
  });
} catch (error) {
  port.postMessage({type: 'failed', error: serialize(error)});
}

function serialize(error: unknown): {message: string; file?: string; exitCode?: number} {
  if (error instanceof SbertkitError) return {message: error.message, file: error.file, exitCode: error.exitCode};
  return {message: (error as Error).message};
}
