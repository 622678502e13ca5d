/**
 * refuseOutputOverInput: the output may not be any name of an input file (same path, another
 * spelling, a symlink, a hard link), checked by device and inode; everything else passes.
 */
import assert from 'node:assert/strict';
import {link, mkdir, symlink, writeFile} from 'node:fs/promises';
import {join, relative} from 'node:path';
import {describe, it} from 'node:test';
import {EXIT, SbertkitError} from '../../../src/errors.js';
import {refuseOutputOverInput} from '../../../src/io/output/same-file.js';
import {tempDir} from '../../helpers/tmp.js';

async function refusal(output: string, inputs: string[]): Promise<SbertkitError> {
  let caught: unknown;
  await refuseOutputOverInput(output, inputs).catch((error: unknown) => (caught = error));
  assert.ok(caught instanceof SbertkitError, `expected a refusal for ${output}`);
  return caught;
}

describe('refuseOutputOverInput', () => {
  it('refuses every name of an input file with one line and exit 2', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    const input = join(dir, 'a.jsonl');
    await writeFile(input, '{"text":"keep me"}\n');
    await symlink(input, join(dir, 'link.jsonl'));
    await link(input, join(dir, 'hard.jsonl'));
    const names = [input, join(dir, 'sub', '..', 'a.jsonl'), relative(process.cwd(), input), join(dir, 'link.jsonl'), join(dir, 'hard.jsonl')];
    for (const output of names) {
      const error = await refusal(output, ['other.txt', input]);
      assert.equal(error.exitCode, EXIT.BAD_INPUT);
      assert.equal(error.toLine(), `${output}: refusing to write over the input ${input}; choose another output`);
    }
    // The input named through the link is caught the same way.
    await refusal(input, [join(dir, 'link.jsonl')]);
  });

  it('lets through a new file, a different file, stdout, stdin and a device', async () => {
    const dir = await tempDir();
    const input = join(dir, 'a.jsonl');
    await writeFile(input, 'x\n');
    await writeFile(join(dir, 'b.jsonl'), 'x\n'); // same content, different inode
    await refuseOutputOverInput(join(dir, 'new.jsonl'), [input]);
    await refuseOutputOverInput(join(dir, 'b.jsonl'), [input, join(dir, 'missing.txt')]);
    await refuseOutputOverInput('-', [input]);
    await refuseOutputOverInput(input, ['-']);
    await refuseOutputOverInput('/dev/null', ['/dev/null']); // written in place, nothing is replaced
  });
});
