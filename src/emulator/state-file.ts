import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { EmulatorState } from './state.js';
import type { EmulatorUser } from './types.js';
import type { StatesJson } from './user-state/store.js';

/**
 * `--state FILE`: users' libraries, playlists and players survive a restart. Every change schedules a save
 * (debounced); a save writes a temporary file beside the target and renames it over, so a crash leaves
 * the old file or the new one, never half of one. The seed is saved too, so /_emulator/reset still
 * returns to it after a restart.
 */

const FORMAT = 'spotauth-emulator-state';
const VERSION = 1;
export const DEFAULT_SAVE_DEBOUNCE_MS = 100;

interface StateFileJson {
  format: typeof FORMAT;
  version: typeof VERSION;
  saved_at: string;
  /** Every user known when saved, so users added through the control API come back. */
  profiles: EmulatorUser[];
  state: StatesJson;
  seed: StatesJson;
}

export interface StateFile {
  /** Writes now if anything changed since the last save. */
  flush(): Promise<void>;
  /** Flushes and stops listening. */
  close(): Promise<void>;
}

function isStates(value: unknown): value is StatesJson {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['users'] === 'object' && v['users'] !== null && Array.isArray(v['playlists']);
}

async function readStateFile(path: string): Promise<StateFileJson | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new Error(`Cannot read the emulator state file ${path} (${code ?? 'unreadable'}).`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Refuse to start rather than overwrite what may be someone's only copy.
    throw new Error(`The emulator state file ${path} is not valid JSON; move it away or fix it.`);
  }
  const file = parsed as Partial<StateFileJson> | null;
  if (
    file?.format !== FORMAT ||
    file.version !== VERSION ||
    !Array.isArray(file.profiles) ||
    !isStates(file.state) ||
    !isStates(file.seed)
  ) {
    throw new Error(`${path} is not a spotauth emulator state file (format ${FORMAT}, version ${VERSION}).`);
  }
  return file as StateFileJson;
}

/** Loads `path` into `state` (when it exists) and keeps it up to date from then on. */
export async function openStateFile(
  state: EmulatorState,
  path: string,
  debounceMs = DEFAULT_SAVE_DEBOUNCE_MS,
): Promise<StateFile> {
  const file = await readStateFile(path);
  if (file) {
    for (const profile of file.profiles) {
      if (!state.users.has(profile.id)) state.addUser(profile);
    }
    state.userStates.restore(file.state, file.seed);
    for (const [userId, data] of Object.entries(file.state.users)) {
      const user = state.users.get(userId);
      if (user && data.product !== undefined) user.product = data.product;
    }
  }

  let timer: NodeJS.Timeout | undefined;
  let dirty = false;
  let writing: Promise<void> | null = null;
  const temp = `${path}.${process.pid}.tmp`;

  const write = async () => {
    dirty = false;
    const body: StateFileJson = {
      format: FORMAT,
      version: VERSION,
      saved_at: new Date(state.now()).toISOString(),
      profiles: [...state.users.values()],
      state: state.userStates.toJSON(),
      seed: state.userStates.seedJson(),
    };
    try {
      await writeFile(temp, JSON.stringify(body), { mode: 0o600 });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      if (!state.config.quiet) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        process.stderr.write(`spotify emulator: cannot save the state file (${code})\n`);
      }
    }
  };

  /** One write at a time; changes made during a write get the next one. */
  const save = async (): Promise<void> => {
    while (writing) await writing;
    if (!dirty) return;
    writing = write().finally(() => {
      writing = null;
    });
    await writing;
  };

  const unsubscribe = state.userStates.onChange(() => {
    dirty = true;
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void save();
    }, debounceMs);
  });

  const flush = async () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    await save();
  };
  return {
    flush,
    async close() {
      unsubscribe();
      // Profiles added through the control API change no user state; save them on the way out too.
      dirty = true;
      await flush();
    },
  };
}
