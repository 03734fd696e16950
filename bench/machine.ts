/** The machine a bench ran on: CPU, cores, memory, OS, Node, and the load around it. */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  cpu: string;
  /** CPU features that decide which kernels the frameworks pick. */
  features: string[];
  cores: number;
  memoryGB: number;
  os: string;
  node: string;
  /** The 1-, 5- and 15-minute load averages at the start. */
  loadStart: number[];
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) return `${pretty[1]}, ${os.type()} ${os.release()}`;
  } catch {
    // not Linux, or no os-release: fall through
  }
  return `${os.type()} ${os.release()}`;
}

function features(): string[] {
  if (!existsSync('/proc/cpuinfo')) return [];
  const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
  return ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni', 'amx_tile'].filter((f) => flags.includes(f));
}

export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    features: features(),
    cores: os.availableParallelism(),
    memoryGB: os.totalmem() / 1024 ** 3,
    os: osName(),
    node: process.version,
    loadStart: os.loadavg(),
  };
}
