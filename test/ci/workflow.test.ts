/**
 * The CI workflow is checked against the GitHub workflow schema that @action-validator bundles
 * (no network): the real file passes, and a broken copy fails, so the check can catch rot.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const WORKFLOW = new URL('../../.github/workflows/ci.yml', import.meta.url).pathname;
const VALIDATOR = new URL('../../node_modules/.bin/action-validator', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'punctual-workflow-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function validate(file: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(VALIDATOR, [file], { timeout: 60_000 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('the CI workflow', () => {
  it('matches the published GitHub workflow schema', async () => {
    const result = await validate(WORKFLOW);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('runs the suites with MongoDB required, on Node 20 and 22, MongoDB 5.0 to 8.0 and a standalone server', () => {
    const text = readFileSync(WORKFLOW, 'utf8');
    expect(text).toContain("REQUIRE_MONGODB: '1'");
    expect(text).toContain("node: ['20', '22']");
    expect(text).toContain("mongodb: ['5.0', '6.0', '7.0', '8.0']");
    expect(text).toContain('topology: standalone');
    expect(text).toContain('npm run test:reliability -- --short');
  });

  it('fails a workflow that breaks the schema', async () => {
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, readFileSync(WORKFLOW, 'utf8').replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest'));
    const result = await validate(broken);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('runs_on');
  });
});
