import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The code a bench measured: the commit, and a hash of the src/ files as they were on disk. */
export interface SourceDigest {
  /** `git rev-parse HEAD`, or null before the first commit. */
  gitHead: string | null;
  /** SHA-256 over the path and content of every file under src/, in path order. */
  srcSha256: string;
  srcFiles: number;
}

/** Hash the src/ folder and read the current commit, so that a result can be matched to its code. */
export async function digestSource(): Promise<SourceDigest> {
  const srcDir = path.join(projectRoot, 'src');
  const entries = await readdir(srcDir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(srcDir, path.join(entry.parentPath, entry.name)))
    .sort();

  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await readFile(path.join(srcDir, file)));
  }
  return { gitHead: readGitHead(), srcSha256: hash.digest('hex'), srcFiles: files.length };
}

function readGitHead(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
