import { describe, it, expect } from 'vitest';
import { eventMatches } from '../../src/schedules/index.js';
import type { EventFilter } from '../../src/types.js';

const data = {
  user: { id: 'u1', plan: 'pro', age: 42, verified: true, referrer: null, tags: ['a', 'b'] },
  country: 'FR',
};

describe('eventMatches', () => {
  it.each<[string, EventFilter | undefined, unknown, boolean]>([
    ['no filter', undefined, data, true],
    ['empty filter', {}, data, true],
    ['no filter, no data', undefined, undefined, true],
    ['top-level equal', { country: 'FR' }, data, true],
    ['top-level different', { country: 'DE' }, data, false],
    ['nested path', { 'user.plan': 'pro' }, data, true],
    ['one of a list', { 'user.plan': ['team', 'pro'] }, data, true],
    ['none of a list', { 'user.plan': ['team', 'free'] }, data, false],
    ['number', { 'user.age': 42 }, data, true],
    ['number is not its string', { 'user.age': '42' }, data, false],
    ['boolean', { 'user.verified': true }, data, true],
    ['null matches null', { 'user.referrer': null }, data, true],
    ['null does not match a missing key', { 'user.coupon': null }, data, false],
    ['missing path', { 'account.plan': 'pro' }, data, false],
    ['path through a primitive', { 'country.code': 'FR' }, data, false],
    ['array index', { 'user.tags.1': 'b' }, data, true],
    ['every key must match', { country: 'FR', 'user.plan': 'free' }, data, false],
    ['all keys match', { country: 'FR', 'user.plan': 'pro', 'user.age': [41, 42] }, data, true],
    ['objects are never equal', { user: 'u1' }, data, false],
    ['data not an object', { country: 'FR' }, 'FR', false],
    ['null data', { country: 'FR' }, null, false],
    ['prototype is not data', { 'user.constructor': 'x' }, data, false],
  ])('%s', (_label, filter, input, expected) => {
    expect(eventMatches(filter, input)).toBe(expected);
  });
});
