/**
 * How jobs are retried, and how a failure's exit code travels through Redis. A part that fails on
 * bad input (exit 2) or the model (exit 3) would fail the same way again, so it is failed at once
 * (BullMQ's UnrecoverableError); anything else (an I/O error, a crash) is retried with backoff. A
 * worker killed outright is not a failure but a stalled job: BullMQ's stalled check gives it back to
 * the queue once its lock expires.
 */
import {EXIT} from '../errors.js';

export const JOB_OPTIONS = {
  attempts: 3,
  backoff: {type: 'exponential', delay: 2_000},
  // Kept so a re-submit of finished work finds its jobs (and is a no-op); the manifests make a
  // re-run a no-op even after they expire.
  removeOnComplete: {age: 7 * 24 * 3600},
  removeOnFail: {age: 30 * 24 * 3600},
} as const;

/** A killed worker's job may be given back this many times before it counts as failed. */
export const MAX_STALLED = 2;

export function isPermanent(exitCode: number): boolean {
  return exitCode === EXIT.BAD_INPUT || exitCode === EXIT.MODEL;
}

/** The reason stored in Redis: the error line, then the exit code a submitter should use. */
export function failureReason(line: string, exitCode: number): string {
  return `${line} [exit ${exitCode}]`;
}

export function failureExitCode(reason: string): number {
  const match = /\[exit (\d+)\]$/.exec(reason);
  return match === null ? EXIT.GATE_FAILED : Number(match[1]);
}
