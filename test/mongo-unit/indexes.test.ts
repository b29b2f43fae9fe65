import { describe, expect, it } from 'vitest';
import {
  collectionNames, COLLECTION_SUFFIXES, DEFAULT_COLLECTION_PREFIX, INDEXES, isValidCollectionName, LOCK_CLEANUP_INDEX,
} from '../../src/stores/mongo/indexes.js';

describe('MongoDB index specs', () => {
  it('names every index uniquely, with the punctual_ prefix', () => {
    const names = INDEXES.map((spec) => spec.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^punctual_[a-z_]+$/);
  });

  it('puts each index on a known collection, with keys and the query it serves', () => {
    for (const spec of INDEXES) {
      expect(Object.keys(COLLECTION_SUFFIXES)).toContain(spec.collection);
      expect(Object.keys(spec.key).length).toBeGreaterThan(0);
      for (const direction of Object.values(spec.key)) expect([1, -1]).toContain(direction);
      expect(spec.serves.length).toBeGreaterThan(0);
    }
  });

  it('has exactly two TTL indexes: run retention at expiry, lock cleanup an hour after', () => {
    const ttl = INDEXES.filter((spec) => spec.expireAfterSeconds !== undefined);
    expect(ttl.map((spec) => [spec.collection, spec.key, spec.expireAfterSeconds])).toEqual([
      ['runs', { purgeAt: 1 }, 0],
      ['locks', { expiresAt: 1 }, 3_600],
    ]);
    expect(INDEXES).toContain(LOCK_CLEANUP_INDEX);
    for (const spec of ttl) expect(Object.keys(spec.key)).toHaveLength(1);
  });

  it('orders the claim index as the claim sort, after the status equality', () => {
    const claim = INDEXES.find((spec) => spec.name === 'punctual_claim');
    expect(Object.entries(claim?.key ?? {})).toEqual([['status', 1], ['priority', -1], ['availableAt', 1], ['scheduledFor', 1], ['_id', 1]]);
  });

  it('names the collections from the prefix', () => {
    expect(DEFAULT_COLLECTION_PREFIX).toBe('punctual_');
    expect(collectionNames('jobs_')).toEqual({
      triggers: 'jobs_triggers', runs: 'jobs_runs', names: 'jobs_trigger_names', locks: 'jobs_locks', audit: 'jobs_audit',
    });
  });

  it('rejects collection names MongoDB refuses', () => {
    expect(isValidCollectionName('punctual_')).toBe(true);
    expect(isValidCollectionName('')).toBe(true);
    for (const bad of ['a$b', 'a\u0000b', 'system.x', 42]) expect(isValidCollectionName(bad)).toBe(false);
  });
});
