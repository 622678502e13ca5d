/** The tests' seeded PRNG is the product's (src/algorithms/random.ts): one generator, so fixtures and --seed runs agree. */
export {mulberry32} from '../../src/algorithms/random.js';
