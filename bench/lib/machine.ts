import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The machine a bench ran on, for the report. */
export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs available to Node.js (what `nproc` prints). */
  cpus: number;
  /** `free -h`, as printed. */
  memory: string;
  /** `df -h` of the temp folder, and the file system type and mount options. */
  disk: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench started: other work on the machine skews results. */
  loadAverage: number[];
}

/** Describe this machine. Commands that are missing leave their field as "unknown". */
export function describeMachine(): MachineInfo {
  const tmp = os.tmpdir();
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.availableParallelism(),
    memory: run('free', ['-h']),
    disk: `${run('df', ['-h', tmp])}\n${mountOf(tmp)}`,
    node: process.version,
    loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Find the /proc/mounts line of the file system that contains `folder` (longest matching mount point). */
function mountOf(folder: string): string {
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields.length >= 4 && (folder === fields[1] || folder.startsWith(`${fields[1] === '/' ? '' : fields[1]}/`)));
    mounts.sort((a, b) => b[1]!.length - a[1]!.length);
    const best = mounts[0];
    return best ? `${best[0]} on ${best[1]} type ${best[2]} (${best[3]})` : 'mount unknown';
  } catch {
    return 'mount unknown';
  }
}
