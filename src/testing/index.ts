export { TestClock, settle } from './test-clock.js';
