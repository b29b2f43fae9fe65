import type { ChildMessage } from './types.js';

/** Sends a message to the parent (run.ts), or prints it when run directly; resolves once sent. */
export function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      console.log(JSON.stringify(message));
      resolve();
    } else process.send(message, () => resolve());
  });
}

/** A progress line for the terminal. */
export function progress(text: string): void {
  void send({ type: 'progress', text });
}
