/**
 * `punctual/testing`: a test clock and record fixtures, usable under any test runner (vitest,
 * node:test, jest). The store and lock store contract suites, which need vitest, are in
 * `punctual/testing/contract`.
 */
export { TestClock, settle } from './test-clock.js';
export { makeTrigger, makeRun, makeAudit, makeTriggerWrite, makeSlotRun, makeSlotFire, fixtureDate, fixtureId } from './fixtures.js';
