/** Topics of what a MongoDB deployment may lack. */
export type DeploymentLimit = 'ttl' | 'changeStreams';

const WARNING_CODES: Record<DeploymentLimit, string> = { ttl: 'PUNCTUAL_MONGODB_NO_TTL', changeStreams: 'PUNCTUAL_MONGODB_POLLING' };

/**
 * What the deployment lacks and what the store does instead, by topic: listed in `health()`
 * (`store.notes`) and said once in the process log, as a Node warning, the first time.
 */
export class DeploymentNotes {
  private readonly limits = new Map<DeploymentLimit, string>();

  has(topic: DeploymentLimit): boolean {
    return this.limits.has(topic);
  }

  note(topic: DeploymentLimit, message: string): void {
    if (this.limits.has(topic)) return;
    this.limits.set(topic, message);
    process.emitWarning(`punctual MongoDB store: ${message}`, { code: WARNING_CODES[topic] });
  }

  list(): string[] {
    return [...this.limits.values()];
  }
}
