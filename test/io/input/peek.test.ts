/**
 * peekFirstLine: the first non-empty line, and a stream that still yields every byte of the input,
 * at any chunking. The expected line is computed here by splitting the whole text.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {peekFirstLine} from '../../../src/io/input/peek.js';
import {openInput} from '../../../src/io/input/open-input.js';
import {mulberry32} from '../../helpers/prng.js';
import {collect, fakeStdin} from '../../helpers/tmp.js';

function expectedFirst(text: string): string | undefined {
  const lines = text.replace(/^\ufeff/, '').split('\n').map((line) => line.replace(/\r$/, ''));
  return lines.find((line) => line !== '');
}

describe('peekFirstLine', () => {
  it('finds the first non-empty line and replays the whole input, at any chunking', async () => {
    const random = mulberry32(7);
    const pieces = ['', '', '\r', 'a', 'sentence1\tsentence2\tscore', '{"x": 1}', 'é你', ' '];
    for (let trial = 0; trial < 300; trial++) {
      const lines = Array.from({length: Math.floor(random() * 6)}, () => pieces[Math.floor(random() * pieces.length)]!);
      const text = (random() < 0.2 ? '\ufeff' : '') + lines.join(random() < 0.5 ? '\n' : '\r\n') + (random() < 0.5 ? '\n' : '');
      const bytes = Buffer.from(text, 'utf8');
      const chunk = 1 + Math.floor(random() * 9);
      const peeked = await peekFirstLine(await openInput('-', fakeStdin(bytes, chunk)));
      assert.equal(peeked.first, expectedFirst(text), JSON.stringify(text));
      const replayed = Buffer.concat((await collect(peeked.input.stream)) as Buffer[]);
      assert.deepEqual(replayed, bytes, JSON.stringify(text));
    }
  });
});
