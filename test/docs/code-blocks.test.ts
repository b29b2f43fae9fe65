/**
 * Every ```ts block of README.md and docs/*.md compiles against the current sources, so the
 * documentation cannot drift from the API. Each block is its own module; the names blocks use
 * without defining them (a `scheduler`, your `handlers`, a `pool`...) are declared once in
 * {@link PRELUDE}. Imports of `./scheduler-api/...` resolve to examples/express, which the HTTP
 * guide tells you to copy under that name.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
// Inside the repository (under node_modules, never committed) so that packages resolve as they do for the sources.
const OUT = join(ROOT, 'node_modules', '.cache', 'punctual-doc-blocks');

const PRELUDE = `
declare const createScheduler: typeof import('punctual').createScheduler;
declare const postgresStore: typeof import('punctual/postgres').postgresStore;
declare const redisLockStore: typeof import('punctual/redis').redisLockStore;
declare const handlers: any;
declare const myHandlers: any;
declare const scheduler: import('punctual').Scheduler<any>;
declare const store: import('punctual').Store;
declare const pool: import('pg').Pool;
declare const redis: import('ioredis').Redis;
declare const expect: typeof import('vitest').expect;
declare const logger: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
declare const pino: Record<'debug' | 'info' | 'warn' | 'error', (fields: unknown, message: string) => void>;
declare const redisRateLimitStore: import('express-rate-limit').Store;
declare function notify(owner: string, message: string): Promise<void>;
declare function sendReport(to: string, options: { signal: AbortSignal; idempotencyKey: string }): Promise<void>;
declare function createMyStore(): Promise<import('punctual').Store & { dropEverything(): Promise<void> }>;
declare function createMyLockStore(): import('punctual').LockStore;
declare const app: import('express').Express;
declare function isAdmin(req: unknown): boolean;
declare function userOf(req: unknown): string;
`;

interface Block {
  /** `docs/testing.md:33`: where the block's first code line is. */
  source: string;
  file: string;
  firstLine: number;
}

function extractBlocks(): Block[] {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'prelude.d.ts'), PRELUDE);
  symlinkSync(join(ROOT, 'examples', 'express'), join(OUT, 'scheduler-api'), 'dir');
  const documents = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const blocks: Block[] = [];
  for (const document of documents) {
    const lines = readFileSync(join(ROOT, document), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]?.trim() !== '```ts') continue;
      const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
      if (end < 0) throw new Error(`${document}:${i + 1}: a \`\`\`ts block that never ends`);
      const file = join(OUT, `${document.replace(/[/.]/g, '_')}_${i + 2}.ts`);
      writeFileSync(file, `${lines.slice(i + 1, end).join('\n')}\nexport {};\n`);
      blocks.push({ source: `${document}:${i + 2}`, file, firstLine: i + 2 });
      i = end;
    }
  }
  return blocks;
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, configPath);
  return { ...parsed.options, noEmit: true, types: ['node'] };
}

describe('code blocks of README.md and docs/', () => {
  it('all compile', { timeout: 120_000 }, () => {
    const blocks = extractBlocks();
    expect(blocks.length).toBeGreaterThan(10);
    const program = ts.createProgram([join(OUT, 'prelude.d.ts'), ...blocks.map((b) => b.file)], compilerOptions());
    const byFile = new Map(blocks.map((b) => [b.file, b]));
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const block = d.file ? byFile.get(d.file.fileName) : undefined;
      const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      if (!block || !d.file || d.start === undefined) return `${d.file?.fileName ?? '?'}: ${message}`;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${block.source.split(':')[0]}:${block.firstLine + line}: ${message}`;
    });
    expect(problems).toEqual([]);
  });
});
