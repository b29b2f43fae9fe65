/**
 * The built package as a user installs it: in a directory outside this repository, with only
 * the packages a PostgreSQL user has (no `mongodb`, no `vitest`). A TypeScript consumer compiles
 * without `skipLibCheck`, and `punctual/testing` loads and runs under plain node (node:test),
 * as ESM and as CommonJS.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
/** What a PostgreSQL user has installed next to punctual: its dependencies, pg, zod, Node types. */
const INSTALLED = ['@standard-schema/spec', 'cron-parser', 'eventemitter3', 'luxon', 'pg', '@types/pg', '@types/node', 'zod'];

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'punctual-consumer-'));
  const pkg = join(dir, 'node_modules', 'punctual');
  mkdirSync(pkg, { recursive: true });
  await run('npx', ['tsup', '--out-dir', join(pkg, 'dist')], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  for (const name of INSTALLED) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), link, 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the built package, installed without mongodb and vitest', () => {
  it('has neither mongodb nor vitest where the consumer could find them', () => {
    for (let at = dir; at !== dirname(at); at = dirname(at)) {
      expect(existsSync(join(at, 'node_modules', 'mongodb'))).toBe(false);
      expect(existsSync(join(at, 'node_modules', 'vitest'))).toBe(false);
    }
  });

  it('compiles a PostgreSQL-only TypeScript consumer with full library checks', { timeout: 120_000 }, () => {
    const file = join(dir, 'app.ts');
    writeFileSync(
      file,
      `import pg from 'pg';
import { z } from 'zod';
import { createScheduler, ValidationError, type Page, type TriggerRecord } from 'punctual';
import { postgresStore } from 'punctual/postgres';
import { TestClock, makeTrigger } from 'punctual/testing';
import type { SlotFire, Store } from 'punctual/store';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const scheduler = createScheduler({
  store: postgresStore(pool, { schema: 'jobs' }),
  clock: new TestClock(),
  handlers: { mail: { schema: z.object({ to: z.string() }), run: async (payload) => { void payload.to; } } },
});
export async function firstPage(): Promise<Page<TriggerRecord>> {
  await scheduler.triggers.create({ name: 'daily', owner: 'o', taskType: 'mail', payload: { to: 'a@b.c' }, schedule: { cron: '0 9 * * *' } });
  return scheduler.triggers.list({ sort: 'name', limit: 10 });
}
export const fixture: TriggerRecord = makeTrigger({ name: 'x' });
export const isValidation = (error: unknown): boolean => error instanceof ValidationError;
// A store author's view: the Store of the options is the Store of punctual/store.
export const fireOne = (store: Store, fire: SlotFire) => store.fireSlots([fire]);
export const sameStore: Store = postgresStore(pool);
`,
    );
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      typeRoots: [join(dir, 'node_modules', '@types')],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n') + (d.file ? ` (${d.file.fileName})` : ''));
    expect(diagnostics).toEqual([]);
    // The consumer really read the built declarations, not this repository's sources.
    expect(program.getSourceFiles().some((f) => f.fileName.startsWith(join(dir, 'node_modules', 'punctual', 'dist')))).toBe(true);
  });

  it('runs TestClock and the fixtures under node:test, as ESM and CommonJS', async () => {
    const body = `
test('a TestClock fires due timers and fixtures build records', async () => {
  const clock = new TestClock(fixtureDate(0));
  const fired = [];
  clock.setTimeout(() => fired.push(clock.now()), 1000);
  await clock.advance(999);
  assert.deepEqual(fired, []);
  await clock.advance(1);
  assert.deepEqual(fired, [fixtureDate(1000).getTime()]);
  assert.equal(makeTrigger({ name: 'x' }).name, 'x');
});`;
    writeFileSync(join(dir, 'clock.test.mjs'), `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { TestClock, makeTrigger, fixtureDate } from 'punctual/testing';\n${body}\n`);
    writeFileSync(join(dir, 'clock.test.cjs'), `const { test } = require('node:test');\nconst assert = require('node:assert/strict');\nconst { TestClock, makeTrigger, fixtureDate } = require('punctual/testing');\n${body}\n`);
    const { stdout } = await run(process.execPath, ['--test', 'clock.test.mjs', 'clock.test.cjs'], { cwd: dir });
    expect(stdout).toMatch(/# pass 2/);
    expect(stdout).toMatch(/# fail 0/);
  });

  it('needs vitest only for the contract suites', async () => {
    const failed = await run(process.execPath, ['--input-type=module', '-e', "await import('punctual/testing/contract')"], { cwd: dir }).then(
      () => null,
      (error: { stderr: string }) => error.stderr,
    );
    expect(failed).toMatch(/Cannot find (package|module) 'vitest'/);
  });
});
