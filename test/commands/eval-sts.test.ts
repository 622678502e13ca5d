/**
 * `sbertkit eval-sts` end to end on a generated model: the report's numbers are recomputed here from
 * vectors that `sbertkit encode` wrote (a different code path) with a naive Spearman, and both gates
 * are exercised through exit codes.
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {existsSync} from 'node:fs';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {runCli, runShell} from '../helpers/cli.js';
import {naiveSpearman} from '../helpers/naive-stats.js';
import {sharedDir} from '../helpers/paths.js';
import {tempDir} from '../helpers/tmp.js';

let dir: string;
let modelDir: string;

/** Our own sentence pairs with made-up gold scores (ties on purpose). */
const PAIRS: Array<[string, string, number]> = [
  ['the cat sat on the mat', 'a cat is sitting on a mat', 4.5],
  ['the dog runs in the park', 'a dog is running outside', 4.0],
  ['we ate dinner at home', 'the train left the station', 0.5],
  ['she reads a book', 'a woman is reading', 4.0],
  ['the sun is hot today', 'it is a warm day', 3.5],
  ['he plays the guitar', 'the car is red', 0.0],
  ['the children play football', 'kids are playing a game', 3.5],
  ['the house is big', 'she reads a book', 0.5],
  ['the cat sat on the mat', 'the dog runs in the park', 1.0],
  ['a man walks to work', 'a person goes to the office on foot', 4.0],
];

before(async () => {
  dir = await tempDir();
  modelDir = (await writeBertModelFolder(join(dir, 'model'), {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 32})).dir;
  await writeFile(join(dir, 'pairs.tsv'), 'sentence1\tsentence2\tscore\n' + PAIRS.map((p) => p.join('\t')).join('\n') + '\n');
  // The same pairs in the original STS Benchmark layout (no header, 7 fields; 9 on some lines).
  await writeFile(
    join(dir, 'pairs-original.csv'),
    PAIRS.map((p, i) => ['main-captions', 'MSRvid', '2012test', String(i).padStart(4, '0'), p[2].toFixed(3), p[0], p[1], ...(i % 2 ? ['src-a', 'src-b'] : [])].join('\t')).join('\n') + '\n',
  );
});
describe('sbertkit eval-sts', () => {
  test('cosine Spearman equals a naive recomputation from vectors written by encode', async () => {
    const r = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--format', 'json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {datasets: Array<{name: string; pairs: number; cosine_spearman: number; main_score: number}>; unique_sentences: number};
    const unique = new Set(PAIRS.flatMap((p) => [p[0], p[1]]));
    assert.equal(report.unique_sentences, unique.size);
    assert.equal(report.datasets[0]!.pairs, PAIRS.length);

    const texts = [...unique];
    const enc = await runCli(['encode', '-', '--input-format', 'txt', '--model', modelDir, '--quiet'], {stdin: texts.join('\n') + '\n'});
    assert.equal(enc.code, 0, enc.stderr);
    const vectors = new Map(enc.stdout.trim().split('\n').map((l, i) => [texts[i]!, (JSON.parse(l) as {embedding: number[]}).embedding]));
    const cos = PAIRS.map(([a, b]) => {
      const x = vectors.get(a)!, y = vectors.get(b)!;
      const dot = x.reduce((s, v, i) => s + v * y[i]!, 0);
      return dot / Math.sqrt(x.reduce((s, v) => s + v * v, 0) * y.reduce((s, v) => s + v * v, 0));
    });
    const expected = naiveSpearman(PAIRS.map((p) => p[2]), cos);
    assert.ok(Math.abs(report.datasets[0]!.cosine_spearman - expected) < 1e-6, `${report.datasets[0]!.cosine_spearman} vs ${expected}`);
    assert.equal(report.datasets[0]!.main_score, report.datasets[0]!.cosine_spearman);
    const onnx = await readFile(join(modelDir, 'onnx', 'model.onnx'));
    assert.equal((report as unknown as {model: {onnx_sha256: string}}).model.onnx_sha256, createHash('sha256').update(onnx).digest('hex'));
  });

  test('two runs give byte-identical JSON reports (CI can diff them)', async () => {
    const args = ['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--format', 'json', '--quiet'];
    const [a, b] = [await runCli(args), await runCli(args)];
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
  });

  test('original STS Benchmark layout gives the same numbers as the headered TSV', async () => {
    const a = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--format', 'json', '--quiet']);
    const b = await runCli(['eval-sts', join(dir, 'pairs-original.csv'), '--model', modelDir, '--format', 'json', '--quiet']);
    assert.equal(b.code, 0, b.stderr);
    const ra = JSON.parse(a.stdout), rb = JSON.parse(b.stdout);
    assert.equal(rb.datasets[0].format, 'original');
    assert.equal(rb.datasets[0].cosine_spearman, ra.datasets[0].cosine_spearman);
    assert.equal(rb.datasets[0].manhattan_pearson, ra.datasets[0].manhattan_pearson);
  });

  // A pipe can be read once: sniffing the format by opening the path a second time read an empty pipe.
  test('a process substitution <(cat file) gives the same scores as the file', async () => {
    const base = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--format', 'json', '--quiet']);
    const piped = await runShell(`timeout -k 5 60 $SBERTKIT eval-sts <(cat '${join(dir, 'pairs.tsv')}') --model '${modelDir}' --format json --quiet`);
    assert.equal(piped.code, 0, piped.stderr);
    const [a, b] = [JSON.parse(base.stdout).datasets[0], JSON.parse(piped.stdout).datasets[0]];
    assert.match(b.file, /^\/dev\/fd\/\d+$|^\/proc\//);
    assert.deepEqual([b.format, b.pairs, b.cosine_spearman, b.manhattan_pearson], [a.format, a.pairs, a.cosine_spearman, a.manhattan_pearson]);
  });

  test('a FIFO fed by a writer process gives the same scores as the file (original layout, sniffed)', async () => {
    const fifoDir = await tempDir();
    const fifo = join(fifoDir, 'sts-fifo');
    const base = await runCli(['eval-sts', join(dir, 'pairs-original.csv'), '--model', modelDir, '--format', 'json', '--quiet']);
    // The writer blocks on open until eval-sts opens the FIFO for reading. Both are bounded by
    // timeout(1) (-k: a blocked open() also holds up the SIGTERM handler's process.exit): opening
    // the FIFO a second time, as eval-sts did, blocks for ever.
    const writer = `timeout -k 5 60 sh -c "cat '${join(dir, 'pairs-original.csv')}' > '${fifo}'" &`;
    const piped = await runShell(`mkfifo '${fifo}' && ${writer} timeout -k 5 60 $SBERTKIT eval-sts '${fifo}' --model '${modelDir}' --format json --quiet`);
    assert.equal(piped.code, 0, piped.stderr);
    const [a, b] = [JSON.parse(base.stdout).datasets[0], JSON.parse(piped.stdout).datasets[0]];
    assert.deepEqual([b.file, b.format, b.pairs], [fifo, 'original', PAIRS.length]);
    assert.deepEqual([b.cosine_spearman, b.manhattan_pearson], [a.cosine_spearman, a.manhattan_pearson]);
  });

  test('--min-spearman: passes below the score, exits 1 above it after writing the report', async () => {
    const base = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--format', 'json', '--quiet']);
    const score = JSON.parse(base.stdout).datasets[0].cosine_spearman * 100;
    const pass = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--quiet', '--min-spearman', String(Math.floor(score) - 1)]);
    assert.equal(pass.code, 0, pass.stderr);
    const out = join(dir, 'gate-report.md');
    const fail = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--quiet', '--format', 'markdown', '-o', out, '--min-spearman', String(Math.ceil(score) + 1)]);
    assert.equal(fail.code, 1);
    assert.match(fail.stderr, /pairs: cosine Spearman .* < .*--min-spearman/);
    assert.ok(existsSync(out), 'report is written before the gate fails');
    assert.match(await readFile(out, 'utf8'), /\| pairs \|/);
  });

  test('--baseline/--max-drop: a baseline higher than this run by more than max-drop fails', async () => {
    const base = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--format', 'json', '--quiet']);
    const report = JSON.parse(base.stdout);
    const same = join(dir, 'baseline-same.json');
    await writeFile(same, base.stdout);
    const ok = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--quiet', '--baseline', same, '--max-drop', '0.5', '-o', join(dir, 'again.json')]);
    assert.equal(ok.code, 0, ok.stderr);
    // -o x.json picks the JSON format, so a run's report can serve as the next run's baseline.
    assert.equal(await readFile(join(dir, 'again.json'), 'utf8'), base.stdout);
    report.datasets[0].cosine_spearman += 0.02; // baseline 2 points better than us
    report.datasets[0].main_score = report.datasets[0].cosine_spearman;
    const better = join(dir, 'baseline-better.json');
    await writeFile(better, JSON.stringify(report));
    const bad = await runCli(['eval-sts', join(dir, 'pairs.tsv'), '--model', modelDir, '--quiet', '--baseline', better, '--max-drop', '0.5']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /dropped 2\.00 points/);
  });

  test('--baseline still checks a dataset after another file is added, and fails for a dataset left out', async () => {
    const body = 'sentence1\tsentence2\tscore\n' + PAIRS.map((p) => p.join('\t')).join('\n') + '\n';
    await mkdir(join(dir, 'm1'), {recursive: true});
    await mkdir(join(dir, 'm2'), {recursive: true});
    await writeFile(join(dir, 'm1', 'test.tsv'), body);
    await writeFile(join(dir, 'm2', 'test.tsv'), body);
    await writeFile(join(dir, 'other.tsv'), body);
    const base = await runCli(['eval-sts', join(dir, 'm1', 'test.tsv'), join(dir, 'other.tsv'), '--model', modelDir, '--format', 'json', '--quiet']);
    assert.equal(base.code, 0, base.stderr);
    const report = JSON.parse(base.stdout);
    assert.deepEqual(report.datasets.map((d: {name: string}) => d.name), ['test', 'other']);
    report.datasets[0].cosine_spearman += 0.02; // 'test' regressed by 2 points since the baseline
    report.datasets[0].main_score = report.datasets[0].cosine_spearman;
    const baseline = join(dir, 'baseline-two.json');
    await writeFile(baseline, JSON.stringify(report));

    // A second file named test: its name must be given, and the first keeps the name the baseline knows.
    const ambiguous = await runCli(['eval-sts', join(dir, 'm1', 'test.tsv'), join(dir, 'm2', 'test.tsv'), '--model', modelDir, '--quiet']);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /two datasets are named 'test'.*NAME=FILE/);
    const added = await runCli(['eval-sts', join(dir, 'm1', 'test.tsv'), `m2-test=${join(dir, 'm2', 'test.tsv')}`, join(dir, 'other.tsv'), '--model', modelDir, '--quiet', '--baseline', baseline, '--max-drop', '0.5']);
    assert.equal(added.code, 1, added.stderr);
    assert.match(added.stderr, /gate failed: test: cosine Spearman dropped 2\.00 points/);

    const leftOut = await runCli(['eval-sts', join(dir, 'other.tsv'), '--model', modelDir, '--quiet', '--baseline', baseline, '--max-drop', '0.5']);
    assert.equal(leftOut.code, 1, leftOut.stderr);
    assert.match(leftOut.stderr, /gate failed: test: in the baseline but not in this run/);
  });

  test('-o naming a dataset or the baseline is refused before anything is read: exit 2, files intact', async () => {
    const dataset = join(dir, 'pairs.tsv');
    const before = await readFile(dataset, 'utf8');
    const r = await runCli(['eval-sts', dataset, '--model', modelDir, '-o', dataset, '--format', 'json']);
    assert.equal(r.code, 2);
    assert.deepEqual(r.stderr.trim().split('\n'), [`sbertkit eval-sts: ${dataset}: refusing to write over the input ${dataset}; choose another output`]);
    assert.equal(await readFile(dataset, 'utf8'), before);

    const baseline = join(dir, 'baseline-self.json');
    await writeFile(baseline, '{"not": "even a report"}');
    const b = await runCli(['eval-sts', dataset, '--model', modelDir, '--baseline', baseline, '-o', baseline]);
    assert.equal(b.code, 2);
    assert.deepEqual(b.stderr.trim().split('\n'), [`sbertkit eval-sts: ${baseline}: refusing to write over the input ${baseline}; choose another output`]);
    assert.equal(await readFile(baseline, 'utf8'), '{"not": "even a report"}');
  });

  test('bad rows name file and line; --skip-invalid counts them', async () => {
    const bad = join(dir, 'bad.tsv');
    await writeFile(bad, 'sentence1\tsentence2\tscore\n' + PAIRS.slice(0, 4).map((p) => p.join('\t')).join('\n') + '\nthe cat\tthe dog\tnot-a-number\n');
    const r = await runCli(['eval-sts', bad, '--model', modelDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /bad\.tsv:6: .*score/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const skip = await runCli(['eval-sts', bad, '--model', modelDir, '--skip-invalid', '--format', 'json', '--quiet']);
    assert.equal(skip.code, 0, skip.stderr);
    assert.equal(JSON.parse(skip.stdout).datasets[0].skipped, 1);
    // The human summary says so too, so a smaller pair count is not a surprise.
    const told = await runCli(['eval-sts', bad, '--model', modelDir, '--skip-invalid']);
    assert.equal(told.code, 0, told.stderr);
    assert.match(told.stderr, /eval-sts: 1 dataset\(s\), 4 pairs \(1 invalid rows skipped\),/);
  });

  test('STS-B test: original CSV and TSV agree (shared data)', {skip: sharedDir() ? false : 'shared STS-B data not present (../shared/data/stsb)'}, async () => {
    const stsb = join(sharedDir()!, 'data', 'stsb');
    const r = await runCli(['eval-sts', join(stsb, 'test.tsv'), join(stsb, 'original', 'sts-test.csv'), '--model', modelDir, '--format', 'json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.datasets.length, 2);
    assert.equal(report.datasets[0].pairs, 1379);
    assert.equal(report.datasets[1].pairs, 1379);
    assert.equal(report.datasets[0].cosine_spearman, report.datasets[1].cosine_spearman);
  });
});
