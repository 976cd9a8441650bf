import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { GOLDEN_NOW, type Recorded, runGoldenWalk, runStateReads } from './golden-script.js';
import { start } from './helpers.js';

/**
 * The emulator's answers are a contract with the apps tested against it: the same state and clock must
 * give the same bytes, however the emulator stores and renders them. The fixtures were written by the
 * emulator before its in-memory representation changed (GOLDEN_WRITE=1 rewrites them; only do that for an
 * intended change of the answers, and review the diff):
 *   responses.golden.json  every answer of the walk (golden-script.ts), and the reads after a restart;
 *   state-v1.json          the --state file that run left behind.
 */

const FIXTURES = new URL('./fixtures/', import.meta.url);
const GOLDEN = new URL('responses.golden.json', FIXTURES);
const STATE_FIXTURE = new URL('state-v1.json', FIXTURES);
const writing = process.env['GOLDEN_WRITE'] === '1';

interface Golden {
  walk: Recorded[];
  restart: Recorded[];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-golden-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const clock = () => GOLDEN_NOW;

/** Runs `script` against an emulator on the fixed clock and that state file, then stops it (saving the file). */
async function onEmulator(
  stateFile: string,
  script: (emulator: RunningEmulator) => Promise<Recorded[]>,
): Promise<Recorded[]> {
  const emulator = await start({ now: clock, stateFile });
  try {
    return await script(emulator);
  } finally {
    await emulator.stop();
  }
}

const walk = (stateFile: string) => onEmulator(stateFile, runGoldenWalk);
const readsAfterRestart = (stateFile: string) => onEmulator(stateFile, runStateReads);

/** A state file without the moment it was saved, which is all that may differ between two saves. */
async function stateContent(path: string | URL): Promise<unknown> {
  const { saved_at: _saved, ...rest } = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  return rest;
}

function expectSame(actual: Recorded[], expected: Recorded[]): void {
  expect(actual.map((r) => r.request)).toEqual(expected.map((r) => r.request));
  for (const [i, answer] of actual.entries()) expect(answer, answer.request).toEqual(expected[i]);
}

describe('the emulator answers byte for byte as before', () => {
  // GOLDEN_WRITE=1: record the fixtures from this emulator first (the checks below then hold it to them).
  beforeAll(async () => {
    if (!writing) return;
    const file = join(dir, 'record.json');
    const recorded = await walk(file);
    const restart = await readsAfterRestart(file);
    await writeFile(GOLDEN, `${JSON.stringify({ walk: recorded, restart }, null, 2)}\n`);
    await copyFile(file, STATE_FIXTURE);
  });

  it('every answer of the walk, and the state file it leaves', async () => {
    const golden = JSON.parse(await readFile(GOLDEN, 'utf8')) as Golden;
    const file = join(dir, 'walk.json');
    expectSame(await walk(file), golden.walk);
    expect(await stateContent(file)).toEqual(await stateContent(STATE_FIXTURE));
  });

  it('loads a state file written by the earlier emulator, and the file it writes loads again', async () => {
    const golden = JSON.parse(await readFile(GOLDEN, 'utf8')) as Golden;
    const file = join(dir, 'restart.json');
    await copyFile(STATE_FIXTURE, file);
    expectSame(await readsAfterRestart(file), golden.restart);
    // The emulator wrote the file again on the way out: its own file gives the same answers too.
    expect(await stateContent(file)).toEqual(await stateContent(STATE_FIXTURE));
    expectSame(await readsAfterRestart(file), golden.restart);
  });
});
