/**
 * The inventory on disk (BRIDGE_INVENTORY_FILE): loaded at start, saved every `intervalMs` when it
 * changed and once more on close. Saving writes a temporary file next to it and renames it over
 * the old one, so a reader (or a crash) never sees half a file. A missing file is a first start;
 * an unreadable or corrupt one is a warning, and the bridge starts with an empty inventory (the
 * bad file is overwritten at the next save). Never throws.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Inventory } from './store.ts';

export const DEFAULT_SAVE_INTERVAL_MS = 30_000;

/** Reads `path` into `inventory`; false when there was nothing usable. */
export async function loadInventory(inventory: Inventory, path: string, log: Logger): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      log.info({ inventoryFile: path }, 'inventory file absent: starting an empty inventory');
      return false;
    }
    log.warn(
      { inventoryFile: path, problem: (e as Error).message },
      'inventory file cannot be read: starting an empty inventory',
    );
    return false;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    log.warn(
      { inventoryFile: path, problem: (e as Error).message },
      'inventory file is not JSON: starting an empty inventory (it is replaced at the next save)',
    );
    return false;
  }
  const clients = inventory.restore(doc);
  if (clients === 0 && !isEmptyState(doc)) {
    log.warn({ inventoryFile: path }, 'inventory file is not an inventory: starting an empty inventory');
    return false;
  }
  log.info({ inventoryFile: path, clients }, 'inventory loaded');
  return true;
}

function isEmptyState(doc: unknown): boolean {
  return (
    typeof doc === 'object' &&
    doc !== null &&
    Array.isArray((doc as { clients?: unknown }).clients) &&
    (doc as { clients: unknown[] }).clients.length === 0
  );
}

/** Writes the inventory to `path` atomically (temporary file, then rename). */
export async function saveInventory(inventory: Inventory, path: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(inventory.toState()) + '\n', { mode: 0o600 });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** Saves the inventory periodically (an unref'd timer) and on `close()`. */
export class InventoryPersister {
  private readonly inventory: Inventory;
  private readonly path: string;
  private readonly log: Logger;
  private readonly timer: NodeJS.Timeout;
  private savedAt = -1;
  private running: Promise<void> | undefined;

  constructor(inventory: Inventory, path: string, log: Logger, intervalMs = DEFAULT_SAVE_INTERVAL_MS) {
    this.inventory = inventory;
    this.path = path;
    this.log = log;
    this.savedAt = inventory.changes;
    this.timer = setInterval(() => void this.save(), intervalMs);
    this.timer.unref();
  }

  /** Saves now if anything changed since the last save; logs (never throws) a failure. */
  async save(): Promise<void> {
    // One save at a time: a save asked for while one runs waits for it, then saves what is new.
    while (this.running) await this.running;
    const changes = this.inventory.changes;
    if (changes === this.savedAt) return;
    this.running = saveInventory(this.inventory, this.path).then(
      () => {
        this.savedAt = changes;
      },
      (e: unknown) => {
        this.log.warn(
          { inventoryFile: this.path, problem: (e as Error).message },
          'inventory file cannot be written',
        );
      },
    );
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Stops the timer and saves one last time. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.save();
  }
}
