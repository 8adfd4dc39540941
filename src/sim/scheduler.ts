// The simulator's event queue: events ordered by (time, sequence) in a binary heap. It is the
// kernel's KernelHost: queued work (async probes, deferred_probe_work, request_module_nowait) and
// udev workers become events; synchronous kernel work advances the clock.
import type { KernelHost } from "../kernel/types.ts";
import { VirtualClock } from "./clock.ts";

interface SimEvent {
  time: number;
  seq: number;
  label: string;
  fn: () => void;
}

function less(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class Scheduler implements KernelHost {
  readonly clock = new VirtualClock();
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  /** Number of events run so far. */
  executed = 0;
  callModprobe?: (argv: string[], env: Record<string, string>, wait: boolean) => number;

  now(): number {
    return this.clock.now();
  }
  advance(ns: number): void {
    this.clock.advance(ns);
  }
  queueWork(label: string, fn: () => void): void {
    this.at(this.now(), label, fn);
  }

  /** Schedules `fn` at absolute time `time` (not before now). */
  at(time: number, label: string, fn: () => void): void {
    const ev: SimEvent = { time: Math.max(time, this.now()), seq: this.seq++, label, fn };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  after(delay: number, label: string, fn: () => void): void {
    this.at(this.now() + delay, label, fn);
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Time of the next event, or null. */
  peekTime(): number | null {
    return this.heap[0]?.time ?? null;
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Runs one event; false when the queue is empty. */
  step(): boolean {
    const ev = this.pop();
    if (!ev) return false;
    this.clock.advanceTo(ev.time);
    this.executed++;
    ev.fn();
    return true;
  }

  /** Runs every event with time <= limit (events they add included); the clock ends at >= limit. */
  runUntil(limit: number): void {
    for (let t = this.peekTime(); t !== null && t <= limit; t = this.peekTime()) this.step();
    this.clock.advanceTo(limit);
  }

  /** Runs until the queue is empty (or `maxEvents` ran: a runaway guard). Returns events run. */
  runAll(maxEvents = 50_000_000): number {
    let n = 0;
    while (n < maxEvents && this.step()) n++;
    return n;
  }
}
