// systemd-udevd as far as driver loading goes: a queue of kernel uevents processed by workers,
// each event blocked while an earlier event for the same devpath, a parent or a child is queued or
// running (src/udev/udev-manager.c event_is_blocked / devpath_conflict); each event takes the
// configured latency; rules/80-drivers.rules: ACTION=="add" with MODALIAS → builtin kmod load →
// module_load_and_warn (src/shared/module-util.c): lookup, skip builtin/live, insert with
// KMOD_PROBE_APPLY_BLACKLIST.
import type { Uevent } from "../kernel/types.ts";
import type { Random } from "./random.ts";
import type { Scheduler } from "./scheduler.ts";
import type { Trace } from "./trace.ts";

export interface UdevOptions {
  /** Processing time per event (ns). */
  latencyNs: number;
  /** Uniform extra latency in [0, jitterNs]. */
  jitterNs: number;
  /** children_max: events processed at once. */
  childrenMax: number;
  /** Whether 80-drivers.rules is installed (systemd built with kmod). */
  driversRule: boolean;
}

export const DEFAULT_UDEV: UdevOptions = { latencyNs: 1_000_000, jitterNs: 0, childrenMax: 16, driversRule: true };

/** builtin kmod load of one modalias: module_load_and_warn's log lines. */
export type ModuleLoader = (modalias: string, devpath: string) => void;

interface QueuedEvent {
  ev: Uevent;
  props: Map<string, string>;
  /** Handed to a worker (left in place until the queue head passes it: no O(n) splice). */
  started: boolean;
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1)) out.push(p.slice(0, i));
  return out;
}

/** Counts of devpaths (and their ancestors) of a set of events, for devpath_conflict checks. */
class PathSet {
  private readonly exact = new Map<string, number>();
  private readonly below = new Map<string, number>();
  add(p: string, d: number): void {
    this.exact.set(p, (this.exact.get(p) ?? 0) + d);
    for (const a of ancestors(p)) this.below.set(a, (this.below.get(a) ?? 0) + d);
  }
  conflicts(p: string): boolean {
    if ((this.exact.get(p) ?? 0) > 0 || (this.below.get(p) ?? 0) > 0) return true;
    for (const a of ancestors(p)) if ((this.exact.get(a) ?? 0) > 0) return true;
    return false;
  }
}

export class Udevd {
  /** Events in seqnum order; entries before `head` and entries marked started are gone. */
  private queue: QueuedEvent[] = [];
  private head = 0;
  private queued = 0;
  private readonly running = new PathSet();
  private runningCount = 0;
  private readonly opts: UdevOptions;
  private readonly sched: Scheduler;
  private readonly rng: Random;
  private readonly trace: Trace;
  private readonly load: ModuleLoader;
  private dispatchQueued = false;
  /** Events processed. */
  processed = 0;

  constructor(opts: UdevOptions, sched: Scheduler, rng: Random, trace: Trace, load: ModuleLoader) {
    this.opts = opts;
    this.sched = sched;
    this.rng = rng;
    this.trace = trace;
    this.load = load;
  }

  /** The kernel's netlink broadcast reaching udevd. */
  receive(ev: Uevent): void {
    this.queue.push({ ev, props: new Map(ev.env), started: false });
    this.queued++;
    this.scheduleDispatch();
  }

  get idle(): boolean {
    return this.queued === 0 && this.runningCount === 0;
  }

  private scheduleDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    this.sched.queueWork("udevd event_queue_start", () => {
      this.dispatchQueued = false;
      this.dispatch();
    });
  }

  /** event_queue_start(): start unblocked events in seqnum order while workers are free. */
  private dispatch(): void {
    const earlier = new PathSet();
    const q = this.queue;
    for (let i = this.head; i < q.length && this.runningCount < this.opts.childrenMax; i++) {
      const e = q[i]!;
      if (e.started) continue;
      const p = e.ev.devpath;
      if (this.running.conflicts(p) || earlier.conflicts(p)) {
        earlier.add(p, 1);
        continue;
      }
      e.started = true;
      this.queued--;
      this.start(e);
    }
    while (this.head < q.length && q[this.head]!.started) this.head++;
    if (this.head > 4096 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  private start(q: QueuedEvent): void {
    this.running.add(q.ev.devpath, 1);
    this.runningCount++;
    const latency = this.rng.jitter(this.opts.latencyNs, this.opts.jitterNs);
    this.sched.after(latency, `udev worker ${q.ev.seqnum}`, () => {
      this.process(q);
      this.running.add(q.ev.devpath, -1);
      this.runningCount--;
      this.processed++;
      if (this.queued > 0) this.scheduleDispatch();
    });
  }

  /** The rules that matter here: 80-drivers.rules. */
  private process(q: QueuedEvent): void {
    const { ev, props } = q;
    this.trace.add("udev", "event", `seq ${ev.seqnum} ${ev.action} ${ev.devpath} (${ev.subsystem}) processed`, { devpath: ev.devpath });
    if (!this.opts.driversRule || ev.action !== "add") return;
    const modalias = props.get("MODALIAS");
    if (modalias === undefined || modalias === "") return;
    this.trace.add("udev", "kmod_load", `RUN{builtin}: 'kmod load' MODALIAS=${modalias}`, { devpath: ev.devpath });
    this.load(modalias, ev.devpath);
  }
}
