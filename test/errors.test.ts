import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {printable, SbertkitError} from '../src/errors.js';

describe('SbertkitError.toLine', () => {
  it('keeps a message that quotes input data on one line', () => {
    const error = new SbertkitError("column 'a\r\nb' not found\u2028\u0000", {file: 'x\ny.csv', line: 3});
    assert.equal(error.toLine(), "x\\ny.csv:3: column 'a\\r\\nb' not found\\u2028\\u0000");
  });

  it('leaves tabs and non-ASCII text alone', () => {
    assert.equal(printable('a\tb é 你好 😀'), 'a\tb é 你好 😀');
  });
});
