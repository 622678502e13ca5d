/**
 * Runs the real sbertkit binary (bin/run.js over the compiled commands in dist/) as a child process,
 * the way a shell pipeline or CI job would.
 */
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import {join} from 'node:path';
import {repoRoot} from './paths.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: {stdin?: string; env?: Record<string, string | undefined>; cwd?: string} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), ...args], {
      cwd: options.cwd ?? repoRoot(),
      env: {...process.env, ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    collect(child).then(resolve, reject);
    child.stdin.end(options.stdin ?? '');
  });
}

/** Runs a bash pipeline (for `| head -1` style checks) from the repo root with `sbertkit` on hand as $SBERTKIT. */
export function runShell(script: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], {
      cwd: repoRoot(),
      env: {...process.env, SBERTKIT: `${process.execPath} ${join(repoRoot(), 'bin', 'run.js')}`, ...env},
    });
    collect(child).then(resolve, reject);
  });
}

/** Gathers a child's output and exit code. */
function collect(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({code, stdout, stderr}));
  });
}
