import { open } from 'node:fs/promises';

/** Sync a folder, so that files created or renamed in it survive a power loss. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
