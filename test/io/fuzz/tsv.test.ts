/** Fuzzes openRows on tsv input: see harness.ts for the contract and text-inputs.ts for the inputs. */
import assert from 'node:assert/strict';
import {it} from 'node:test';
import {fuzzSettings} from './harness.js';
import {fuzzRows} from './rows-fuzz.js';

it('openRows (tsv): every generated input parses or fails as one SbertkitError line', async () => {
  const {seed, cases} = fuzzSettings(0x75f2, 500);
  const {parsed, failed} = await fuzzRows('tsv', seed, cases);
  // Both outcomes must be common, or the generator has stopped exercising one side.
  assert.ok(parsed > cases / 10 && failed > cases / 10, `parsed ${parsed}, failed ${failed}`);
});
