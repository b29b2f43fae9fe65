import type { LeaseRenewal, LeaseRenewalRequest } from './types.js';

/** The key of a run under one lease token. */
export function leaseKey(item: { runId: string; token: string }): string {
  return `${item.runId}\u0000${item.token}`;
}

/**
 * The first item per run and token, with its position. A repeated finish could never apply (if
 * the first applied, it cleared the lease; if not, the token does not hold the run), and a
 * repeated renewal gets the first one's answer; leaving repeats out lets a store write each run
 * from one input item.
 */
export function firstPerLease<T extends { runId: string; token: string }>(items: readonly T[]): { item: T; i: number }[] {
  const seen = new Set<string>();
  const first: { item: T; i: number }[] = [];
  items.forEach((item, i) => {
    const key = leaseKey(item);
    if (seen.has(key)) return;
    seen.add(key);
    first.push({ item, i });
  });
  return first;
}

/**
 * Renews the first request per run and token through `renew` (which answers for those, in
 * their order) and answers every request in input order, a repeat as its first occurrence.
 */
export async function renewEachLeaseOnce(
  renewals: readonly LeaseRenewalRequest[],
  renew: (first: readonly LeaseRenewalRequest[]) => Promise<readonly LeaseRenewal[]>,
): Promise<LeaseRenewal[]> {
  if (renewals.length === 0) return [];
  const first = firstPerLease(renewals).map(({ item }) => item);
  const answers = await renew(first);
  const byLease = new Map(first.map((item, k) => [leaseKey(item), answers[k] ?? { held: false, cancelRequested: false }]));
  return renewals.map((r) => byLease.get(leaseKey(r)) ?? { held: false, cancelRequested: false });
}
