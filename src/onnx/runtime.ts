/**
 * The one lazy import of onnxruntime-node. Commands that never run a graph (and `--help`) never pay
 * for loading the native runtime; the encoder and the vector search share the loaded module.
 *
 * Telemetry: ONNX Runtime 1.30's native library records events (session creation, execution provider
 * and device use, with a device id, the OS, the process path and the runtime version) in
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ (a `deviceid` file and an SQLite queue,
 * onnxruntime.db) for upload to Microsoft. It reads ORT_DISABLE_TELEMETRY when it starts: sbertkit
 * sets it to 1 unless the user set it (ORT_DISABLE_TELEMETRY=0 lets it run), before the first load,
 * so worker threads, which copy the environment, inherit it.
 */
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

let ortPromise: Promise<OrtModule> | undefined;

export const TELEMETRY_ENV = 'ORT_DISABLE_TELEMETRY';

// At import, on the main thread: only the main thread's process.env writes the real environment the
// native library reads, and worker threads (the encoder's session pool) may load it first.
process.env[TELEMETRY_ENV] ??= '1';

export function loadOrt(): Promise<OrtModule> {
  ortPromise ??= import('onnxruntime-node');
  return ortPromise;
}
