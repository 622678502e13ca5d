/**
 * --device: CUDA is refused with one line naming the install step when ONNX Runtime's CUDA provider
 * library is absent (as on this machine and any offline install), and let through when the library is
 * where onnxruntime-node's install script puts it. No GPU here: what a CUDA run does is not tested.
 */
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, test} from 'node:test';
import {checkDevice, CUDA_INSTALL_STEP, executionProviders, ortBindingFolders} from '../../src/onnx/device.js';
import {SbertkitError} from '../../src/errors.js';
import {runCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/tmp.js';

describe('checkDevice', () => {
  test('cpu needs nothing', () => {
    checkDevice('cpu', []);
    assert.deepEqual(executionProviders('cpu'), ['cpu']);
  });

  test('cuda without the provider library: exit 3 naming the install step', async () => {
    const dir = await tempDir();
    assert.throws(
      () => checkDevice('cuda', [dir], 'linux'),
      (error: unknown) => error instanceof SbertkitError && error.exitCode === 3 && error.message.includes(CUDA_INSTALL_STEP) && error.message.includes('libonnxruntime_providers_cuda.so'),
    );
  });

  test('cuda with the library where the install script puts it passes the check', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'libonnxruntime_providers_cuda.so'), '');
    checkDevice('cuda', [dir], 'linux');
    assert.deepEqual(executionProviders('cuda'), ['cuda', 'cpu']);
  });

  test('cuda on macOS: no CUDA build, exit 3', () => {
    assert.throws(() => checkDevice('cuda', [], 'darwin'), (error: unknown) => error instanceof SbertkitError && error.exitCode === 3 && /no CUDA build for darwin/.test(error.message));
  });

  test('the installed binding folder is found (the CPU library is there)', () => {
    const folders = ortBindingFolders();
    assert.ok(folders.some((dir) => existsSync(join(dir, process.platform === 'win32' ? 'onnxruntime.dll' : 'libonnxruntime.so.1')) || existsSync(join(dir, 'onnxruntime_binding.node'))), folders.join(', '));
  });
});

describe('sbertkit encode --device cuda on a machine without the CUDA provider', () => {
  test('one line naming the install step, exit 3, no output file', {skip: ortBindingFolders().some((d) => existsSync(join(d, 'libonnxruntime_providers_cuda.so'))) ? 'the CUDA provider is installed here' : false}, async () => {
    const dir = await tempDir();
    const out = join(dir, 'v.parquet');
    const r = await runCli(['encode', 'examples/sentences.txt', '-o', out, '--device', 'cuda']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(CUDA_INSTALL_STEP), r.stderr);
    assert.ok(!existsSync(out));
  });
});
