/**
 * CPU time of local processes from /proc (Linux), and finding which local process serves a URL:
 * the one holding the listening socket of its port. Used by the load test and by the benchmarks.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat. 100 on every Linux build we run on. */
const USER_HZ = 100;

/** CPU time (user + system) a process has used so far, in ms; undefined when it is gone or /proc is missing. */
export function cpuMs(pid: number): number | undefined {
  try {
    // comm (field 2) may hold spaces and parentheses: the fields after it start after the last ") ".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    // After comm: state is fields[0], so utime (field 14) is fields[11] and stime (field 15) fields[12].
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** This process's CPU time (user + system) so far, in ms, at µs resolution. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The short name of a process (`/proc/<pid>/comm`), or undefined. */
export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Whether a host name or address is this machine (loopback, unspecified, or one of its interfaces). */
export function isLocalHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '::' || h === '0.0.0.0' || /^127\./.test(h)) return true;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.address.toLowerCase() === h) return true;
  }
  return false;
}

/** Inodes of the sockets listening on a TCP port (IPv4 and IPv6), from /proc/net/tcp{,6}. */
export function listeningInodes(port: number, tables: string[] = ['/proc/net/tcp', '/proc/net/tcp6']): Set<string> {
  const out = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of tables) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A: LISTEN
      if (cols[1]!.slice(cols[1]!.lastIndexOf(':') + 1) !== hexPort) continue;
      if (cols[9] !== '0') out.add(cols[9]!);
    }
  }
  return out;
}

/**
 * The pid of the local process listening on a TCP port, by matching the socket's inode against
 * every process's open files. Undefined when none is found (another user's process whose fds we may
 * not read, another network namespace, or nothing listening).
 */
export function listeningPid(port: number): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) return Number(pid);
    }
  }
  return undefined;
}
