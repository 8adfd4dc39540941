// Every error kbind raises carries a machine-readable code and a location. The CLI turns them into
// one clear line (src/cli/render-error.ts); the core never prints.
import type { ErrnoName } from "./errno.ts";

export interface ErrorLocation {
  /** A file the input came from (scenario, modules.alias, modprobe.d file, .ko). */
  file?: string;
  /** 1-based line and column in that file. */
  line?: number;
  column?: number;
  /** 0-based byte/character offset in a string input (modalias, alias, ID string). */
  offset?: number;
  /** A sysfs path (real or simulated) the error is about. */
  sysfsPath?: string;
  /** The errno the kernel (or kmod) would return. */
  errno?: ErrnoName;
}

export class KbindError extends Error {
  readonly code: string;
  readonly location: ErrorLocation;
  constructor(code: string, message: string, location: ErrorLocation = {}) {
    super(message);
    this.name = "KbindError";
    this.code = code;
    this.location = location;
  }
}

/** Formats a location as `file:line:col`, `sysfs path (ERRNO)`, `offset N`, whichever is known. */
export function formatLocation(loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) {
    let s = loc.file;
    if (loc.line !== undefined) s += `:${loc.line}`;
    if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
    parts.push(s);
  }
  if (loc.sysfsPath !== undefined) parts.push(loc.sysfsPath);
  if (loc.offset !== undefined) parts.push(`offset ${loc.offset}`);
  if (loc.errno !== undefined) parts.push(loc.errno);
  return parts.join(" ");
}

export function isKbindError(e: unknown): e is KbindError {
  return e instanceof KbindError;
}
