// The simulator's event queue: (time, sequence) order, runUntil, clock monotonicity; the seeded PRNG.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Scheduler } from "../../src/sim/scheduler.ts";
import { Random } from "../../src/sim/random.ts";

describe("Scheduler: events ordered by (time, seq)", () => {
  it("runs earlier times first and equal times in scheduling order", () => {
    const s = new Scheduler();
    const got: string[] = [];
    s.at(5, "c", () => got.push("c@5"));
    s.at(1, "a", () => got.push("a@1"));
    s.at(5, "d", () => got.push("d@5"));
    s.at(1, "b", () => got.push("b@1"));
    s.runAll();
    expect(got).toEqual(["a@1", "b@1", "c@5", "d@5"]);
    expect(s.now()).toBe(5);
  });

  it("work queued while an event runs goes after events already queued for the same time (queue_work)", () => {
    const s = new Scheduler();
    const got: string[] = [];
    s.at(0, "first", () => {
      got.push("first");
      s.queueWork("queued-by-first", () => got.push("queued-by-first"));
    });
    s.at(0, "second", () => got.push("second"));
    s.runAll();
    expect(got).toEqual(["first", "second", "queued-by-first"]);
  });

  it("an event in the past (after a synchronous advance) runs at the current time, never moving the clock back", () => {
    const s = new Scheduler();
    const times: number[] = [];
    s.at(10, "blocker", () => s.advance(100)); // a 100 ns synchronous probe
    s.at(20, "late", () => times.push(s.now()));
    s.runAll();
    expect(times).toEqual([110]);
  });

  it("runUntil stops at the limit and leaves later events queued", () => {
    const s = new Scheduler();
    const got: number[] = [];
    for (const t of [1, 2, 3, 4]) s.at(t, `e${t}`, () => got.push(t));
    s.runUntil(2);
    expect(got).toEqual([1, 2]);
    expect(s.now()).toBe(2);
    expect(s.pending).toBe(2);
    s.runUntil(10);
    expect(got).toEqual([1, 2, 3, 4]);
    expect(s.now()).toBe(10);
  });

  it("property: any schedule runs in non-decreasing time, ties by insertion", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 200 }), (times) => {
        const s = new Scheduler();
        const ran: { t: number; i: number }[] = [];
        times.forEach((t, i) => s.at(t, String(i), () => ran.push({ t: s.now(), i })));
        s.runAll();
        const want = times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i);
        expect(ran).toEqual(want);
      }),
    );
  });
});

describe("Random: seeded, reproducible", () => {
  it("same seed, same sequence; different seed, different sequence", () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const sa = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(sa);
  });

  it("jitter stays within [base, base + jitter] and int within [lo, hi]", () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat({ max: 1e9 }), fc.nat({ max: 1e9 }), (seed, base, jit) => {
        const r = new Random(seed);
        const v = r.jitter(base, jit);
        expect(v).toBeGreaterThanOrEqual(base);
        expect(v).toBeLessThanOrEqual(base + jit);
        const n = r.int(3, 7);
        expect(n).toBeGreaterThanOrEqual(3);
        expect(n).toBeLessThanOrEqual(7);
      }),
    );
  });
});
