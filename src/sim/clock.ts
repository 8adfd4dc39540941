// Virtual time for the simulator: integer nanoseconds, with the duration syntax scenarios use
// ("250us", "3ms", "1.5s", "0") and the dmesg-style printer ("[    1.234567]").
import { KbindError } from "../model/errors.ts";

const UNITS: Record<string, number> = { ns: 1, us: 1_000, ms: 1_000_000, s: 1_000_000_000 };

/** Parses "3ms", "250us", "1.5s", "42ns" or a bare number of nanoseconds. */
export function parseDuration(s: string | number, where = "duration"): number {
  if (typeof s === "number") {
    if (!Number.isFinite(s) || s < 0) throw new KbindError("BAD_DURATION", `${where}: not a non-negative duration: ${s}`);
    return Math.round(s);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s)?\s*$/.exec(s);
  if (!m) throw new KbindError("BAD_DURATION", `${where}: expected a duration like 3ms, 250us, 1.5s: "${s}"`);
  return Math.round(parseFloat(m[1]!) * UNITS[m[2] ?? "ns"]!);
}

/** "[    1.234567]" as dmesg prints a timestamp (seconds.microseconds). */
export function formatStamp(ns: number): string {
  const us = Math.floor(ns / 1000);
  const sec = Math.floor(us / 1_000_000);
  const frac = String(us % 1_000_000).padStart(6, "0");
  return `[${String(sec).padStart(5, " ")}.${frac}]`;
}

/** A monotonic virtual clock. */
export class VirtualClock {
  private t = 0;
  now(): number {
    return this.t;
  }
  /** Moves forward by `ns` (never backwards). */
  advance(ns: number): void {
    if (ns > 0) this.t += ns;
  }
  /** Moves to `t` if that is later. */
  advanceTo(t: number): void {
    if (t > this.t) this.t = t;
  }
}
