/**
 * Loaded into a benchmark's child processes with NODE_OPTIONS=--import: when the process exits, its
 * peak resident set size (KiB, as Linux reports maxRSS) is appended to the file named by
 * SBERTKIT_BENCH_RSS_FILE, so a benchmark that runs the real CLI can print each run's memory.
 */
import {appendFileSync} from 'node:fs';

const file = process.env.SBERTKIT_BENCH_RSS_FILE;
if (file !== undefined && file !== '') {
  process.on('exit', () => appendFileSync(file, `${process.resourceUsage().maxRSS}\n`));
}
