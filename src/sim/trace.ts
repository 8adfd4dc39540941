// The simulator's trace: every kernel line, uevent, udev action, kmod load, script step and
// expectation, stamped with virtual time and a sequence number. Printed as readable text (dmesg-like)
// or JSON Lines.
import type { KernelTraceEvent, Uevent } from "../kernel/types.ts";
import { formatStamp } from "./clock.ts";

export type TraceSource = "kernel" | "uevent" | "udev" | "kmod" | "script" | "expect";

export interface TraceRecord {
  t: number;
  seq: number;
  source: TraceSource;
  kind: string;
  text: string;
  device?: string;
  /** The kobject path a udev record is about (its event's DEVPATH). */
  devpath?: string;
  driver?: string;
  module?: string;
  errno?: number;
  /** The uevent's variables (source "uevent"). */
  env?: [string, string][];
  ok?: boolean;
}

export class Trace {
  readonly records: TraceRecord[] = [];
  private seq = 0;
  private readonly now: () => number;
  /** When false, only counts are kept (benchmarks). */
  keep: boolean;
  count = 0;

  constructor(now: () => number, keep = true) {
    this.now = now;
    this.keep = keep;
  }

  add(source: TraceSource, kind: string, text: string, extra: Partial<Omit<TraceRecord, "t" | "seq" | "source" | "kind" | "text">> = {}): void {
    this.count++;
    if (!this.keep) return;
    this.records.push({ t: this.now(), seq: this.seq++, source, kind, text, ...extra });
  }

  kernel(ev: KernelTraceEvent): void {
    const { kind, text, ...rest } = ev;
    this.add("kernel", kind, text, rest);
  }

  uevent(ev: Uevent): void {
    this.add("uevent", ev.action, `${ev.action} ${ev.devpath} (${ev.subsystem})`, { env: ev.env });
  }
}

/** One readable line per record: "[    0.003000] kernel   bound   driver: 'e1000e'..." */
export function formatTraceText(records: readonly TraceRecord[], opts: { env?: boolean } = {}): string {
  const out: string[] = [];
  for (const r of records) {
    out.push(`${formatStamp(r.t)} ${r.source.padEnd(6)} ${r.text}`);
    if (opts.env && r.env) for (const [k, v] of r.env) out.push(`${" ".repeat(22)}${k}=${v}`);
  }
  return out.join("\n") + (out.length ? "\n" : "");
}

/** JSON Lines, one record per line, keys in a fixed order. */
export function formatTraceJsonl(records: readonly TraceRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : "");
}
