/**
 * Benchmark: the staged dedupe (plan, assign --shard i/N, bucket --shard i/M, merge) against the
 * single-machine `dedupe --buckets K --probes P` (the baseline, measured in the same run) on seeded
 * synthetic vectors with planted near-copies, written as Arrow parts. All through the real CLI, the
 * stages one after another on this machine, so the figure is the stages' overhead (process starts,
 * the work folder's files), not a speed-up; on N machines the assign and bucket steps divide. Also
 * prints whether both drop the same rows for the same kept rows, the work folder's size, and each
 * run's peak RSS (bench/lib/child-rss.ts). Every row has a distinct text of --text-chars characters,
 * so the exact stage has real texts to key and merge's memory shows what holding them would cost.
 *
 *   npm run bench:dedupe-stages [-- --rows 30000 --dim 64 --parts 4 --threshold 0.95 --probes 3 --text-chars 400]
 */
import {spawn} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {openVectorWriter} from '../src/io/vectors/write-vectors.js';
import {mulberry32} from '../test/helpers/prng.js';
import {duration, int, printSection} from './lib/format.js';

const {values} = parseArgs({
  options: {
    rows: {type: 'string', default: '30000'},
    dim: {type: 'string', default: '64'},
    parts: {type: 'string', default: '4'},
    threshold: {type: 'string', default: '0.95'},
    probes: {type: 'string', default: '3'},
    'text-chars': {type: 'string', default: '400'},
    keep: {type: 'boolean', default: false},
  },
});
const n = Number(values.rows);
const d = Number(values.dim);
const parts = Number(values.parts);
const buckets = Math.round(Math.sqrt(n));
const textChars = Number(values['text-chars']);
const FILLER = 'the quick brown fox jumps over the lazy dog while seven wizards quietly judge boxing matches ';

/** Row i's text: its number, then filler cut to textChars characters (distinct, so no exact duplicates). */
function textOf(i: number): string {
  const head = `row ${i} `;
  return head + FILLER.repeat(Math.ceil(textChars / FILLER.length) + 1).slice(i % FILLER.length, i % FILLER.length + Math.max(0, textChars - head.length));
}
const bin = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/** Rows, 30% of them with 1 to 4 near-copies (noise 0.05 per coordinate), shuffled. */
function synthetic(): Float32Array[] {
  const rand = mulberry32(n * 7 + d);
  const gauss = () => rand() + rand() + rand() - 1.5;
  const rows: Float32Array[] = [];
  while (rows.length < n) {
    const c = Float32Array.from({length: d}, gauss);
    rows.push(c);
    const copies = rand() < 0.3 ? 1 + Math.floor(rand() * 4) : 0;
    for (let k = 0; k < copies && rows.length < n; k++) rows.push(Float32Array.from(c, (x) => x + 0.05 * gauss()));
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows;
}

async function writeArrow(path: string, rows: Float32Array[], first: number): Promise<void> {
  const writer = await openVectorWriter(path, {format: 'arrow', dimension: d, idType: 'int', fieldNames: ['text'], metadata: {}});
  await writer.write(rows.map((vector, i) => ({id: first + i, vector, fields: {text: textOf(first + i)}})));
  await writer.commit();
}

const rssModule = new URL('./lib/child-rss.js', import.meta.url).href;
/** Peak RSS (MiB) of each named run; a step of several runs keeps its largest. */
const peakRss = new Map<string, number>();

function run(args: string[], name: string): Promise<number> {
  const started = performance.now();
  const rssFile = join(dir, `rss-${peakRss.size}-${Math.random().toString(36).slice(2)}.txt`);
  const env = {...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${rssModule}`.trim(), SBERTKIT_BENCH_RSS_FILE: rssFile};
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args, '--quiet'], {stdio: ['ignore', 'ignore', 'inherit'], env});
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`sbertkit ${args.join(' ')} exited ${code}`));
      const kib = Math.max(...readFileSync(rssFile, 'utf8').trim().split('\n').map(Number));
      peakRss.set(name, Math.max(peakRss.get(name) ?? 0, kib / 1024));
      resolve(performance.now() - started);
    });
  });
}

function dropped(map: string): Map<string, string> {
  const lines = readFileSync(map, 'utf8').trim().split('\n').slice(1);
  return new Map(lines.map((l) => l.split(',')).map(([removed, kept]) => [removed!, kept!]));
}

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

const dir = mkdtempSync(join(tmpdir(), 'sbertkit-bench-stages-'));
try {
  const rows = synthetic();
  const partsDir = join(dir, 'parts');
  mkdirSync(partsDir);
  const per = Math.ceil(n / parts);
  for (let p = 0; p < parts; p++) await writeArrow(join(partsDir, `p${String(p).padStart(4, '0')}.arrow`), rows.slice(p * per, (p + 1) * per), p * per);
  await writeArrow(join(dir, 'whole.arrow'), rows, 0);
  const flags = ['--threshold', values.threshold!];
  const single = await run(['dedupe', join(dir, 'whole.arrow'), ...flags, '--buckets', String(buckets), '--probes', values.probes!, '-o', join(dir, 'single.arrow'), '--duplicates', join(dir, 'single.csv')], 'single');

  const work = join(dir, 'work');
  const steps: Array<[string, number]> = [];
  steps.push(['plan', await run(['dedupe', 'plan', partsDir, '--out', work, ...flags, '--buckets', String(buckets), '--probes', values.probes!], 'plan')]);
  let assign = 0;
  for (let i = 0; i < parts; i++) assign += await run(['dedupe', 'assign', work, '--shard', `${i}/${parts}`], 'assign');
  steps.push([`assign (${parts} shards)`, assign]);
  let bucket = 0;
  for (let i = 0; i < 2; i++) bucket += await run(['dedupe', 'bucket', work, '--shard', `${i}/2`], 'bucket');
  steps.push([`bucket (${buckets} buckets, 2 shares)`, bucket]);
  steps.push(['merge', await run(['dedupe', 'merge', work, '-o', join(dir, 'staged.arrow'), '--duplicates', join(dir, 'staged.csv')], 'merge')]);
  const staged = steps.reduce((sum, [, ms]) => sum + ms, 0);

  const a = dropped(join(dir, 'single.csv'));
  const b = dropped(join(dir, 'staged.csv'));
  const differ = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).length;
  const rss = (name: string): string => `${(peakRss.get(name) ?? 0).toFixed(0)} MiB`;
  printSection(`dedupe in stages: ${int(n)} rows x ${d} with ${textChars}-character texts, ${parts} parts, ${buckets} buckets, ${values.probes} probes, threshold ${values.threshold}`, [
    ['single-machine dedupe --buckets (baseline)', duration(single)],
    ...steps.map(([name, ms]): [string, string] => [`  ${name}`, duration(ms)]),
    ['stages, one after another', `${duration(staged)} (${(staged / single).toFixed(2)}x the baseline)`],
    ['rows dropped (single / staged)', `${int(a.size)} / ${int(b.size)}`],
    ['rows decided differently', int(differ)],
    ['peak RSS: single-machine dedupe', rss('single')],
    ['peak RSS: plan / assign / bucket / merge', ['plan', 'assign', 'bucket', 'merge'].map(rss).join(' / ')],
    ['work folder: assign + buckets', `${(folderBytes(join(work, 'assign')) / 2 ** 20).toFixed(1)} MiB + ${(folderBytes(join(work, 'buckets')) / 2 ** 20).toFixed(1)} MiB`],
  ]);
} finally {
  if (!values.keep) rmSync(dir, {recursive: true, force: true});
}
