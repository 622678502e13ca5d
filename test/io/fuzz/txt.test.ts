/** Fuzzes openRows on txt input: see harness.ts for the contract and text-inputs.ts for the inputs. */
import assert from 'node:assert/strict';
import {it} from 'node:test';
import {fuzzSettings} from './harness.js';
import {fuzzRows} from './rows-fuzz.js';

it('openRows (txt): every generated input parses or fails as one SbertkitError line', async () => {
  const {seed, cases} = fuzzSettings(0x7e47, 500);
  const {parsed, failed} = await fuzzRows('txt', seed, cases);
  // Both outcomes must be common, or the generator has stopped exercising one side.
  assert.ok(parsed > cases / 10 && failed > cases / 10, `parsed ${parsed}, failed ${failed}`);
});
