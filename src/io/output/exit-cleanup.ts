/**
 * Paths to delete if the process exits before their owner does (uncommitted temp outputs, spooled
 * stdin copies). One registry and one 'exit' hook for the whole process; a signal handler that calls
 * process.exit() runs it too (src/cli/base-command.ts).
 */
import {rmSync} from 'node:fs';

const pending = new Set<string>();
let hookInstalled = false;

/** Deletes `path` (file or folder) at process exit unless forgotten first. */
export function removeOnExit(path: string): void {
  pending.add(path);
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', removePendingSync);
  }
}

/** The owner has committed or removed `path` itself. */
export function forgetOnExit(path: string): void {
  pending.delete(path);
}

/** Deletes everything still registered. The 'exit' hook; exported for tests. */
export function removePendingSync(): void {
  for (const path of pending) rmSync(path, {recursive: true, force: true});
  pending.clear();
}
