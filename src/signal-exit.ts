/**
 * Exiting on SIGINT/SIGTERM in an orderly way. process.exit() tears down worker threads wherever they
 * are, and a thread torn down while ONNX Runtime is inside a native call aborts the whole process
 * ("terminate called after throwing an instance of 'Napi::Error'", exit 134). So owners of such
 * threads register a stop here (the session pool: let started batches finish, then end its workers),
 * and the CLI's signal handler runs every stop before process.exit(), whose 'exit' hooks then remove
 * temp outputs and restore the terminal. The module has no imports, so any layer may use it.
 */

type Stop = () => Promise<void>;

const stops = new Set<Stop>();
let exiting = false;

/** Longest wait for the stops: a batch of a large model takes seconds; a hung one must not keep a Ctrl-C from working. */
const STOP_TIMEOUT_MS = 15_000;

/** Runs `stop` before a signal exit, until the returned function unregisters it. */
export function onSignalExit(stop: Stop): () => void {
  stops.add(stop);
  return () => stops.delete(stop);
}

/** True once a signal exit has begun: failures of the interrupted work are its consequence, not news. */
export function signalExitStarted(): boolean {
  return exiting;
}

/**
 * Runs the registered stops, then exits with `code`. A second signal while they run exits at once,
 * as users expect of a second Ctrl-C.
 */
export function exitOnSignal(code: number): void {
  if (exiting) process.exit(code);
  exiting = true;
  // If the event loop empties before the stops finish, the process still reports the signal.
  process.exitCode = code;
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS));
  const stopped = Promise.allSettled([...stops].map(async (stop) => stop()));
  void Promise.race([stopped, timeout]).then(() => process.exit(code));
}
