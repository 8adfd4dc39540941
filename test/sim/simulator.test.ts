// The simulator: determinism, udevd's queue (systemd src/udev/udev-manager.c event_is_blocked /
// devpath_conflict, per-event latency), rules/80-drivers.rules with the blacklist (module_load_and_warn,
// src/shared/module-util.c), modprobe failures, request_module (kernel/module/kmod.c __request_module),
// module unload (kernel/module/main.c delete_module → driver_unregister → driver_detach, reverse bind
// order) and hotplug add/remove (drivers/base/core.c device_add/device_del).
import { describe, expect, it } from "vitest";
import { ERRNO } from "../../src/model/errno.ts";
import { ETIME } from "../../src/kernel/request-module.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { Simulation } from "../../src/sim/simulator.ts";
import { formatTraceJsonl } from "../../src/sim/trace.ts";
import { boundTo, lines, recordsOf, run, SMALL, text } from "./helpers.ts";

describe("determinism and replay", () => {
  it("same scenario and seed give the identical trace (text and JSON Lines)", () => {
    const a = run(SMALL);
    const b = run(SMALL);
    expect(text(b)).toBe(text(a));
    expect(formatTraceJsonl(b.trace.records)).toBe(formatTraceJsonl(a.trace.records));
    expect(b.state).toEqual(a.state);
  });

  it("another seed changes udev latencies (jitter) but not the final bindings", () => {
    const a = run(SMALL, { seed: 1 });
    const b = run(SMALL, { seed: 2 });
    expect(text(b)).not.toBe(text(a));
    expect(b.state.devices).toEqual(a.state.devices);
  });

  it("every record is stamped in non-decreasing (time, seq) order", () => {
    const r = run(SMALL);
    const recs = r.trace.records;
    for (let i = 1; i < recs.length; i++) {
      expect(recs[i]!.t).toBeGreaterThanOrEqual(recs[i - 1]!.t);
      expect(recs[i]!.seq).toBe(recs[i - 1]!.seq + 1);
    }
  });

  it("--until stops the clock: nothing after the limit, boot unfinished", () => {
    const r = run(SMALL, { untilNs: 1_000_000 });
    expect(r.state.timeNs).toBe(1_000_000);
    expect(r.trace.records.every((x) => x.t <= 1_000_000)).toBe(true);
    expect(boundTo(r, "0000:01:00.0")).toBeNull(); // udev (2 ms latency) has not run yet
  });
});

describe("udevd: per-device serialisation and latency (event_is_blocked)", () => {
  it("an event is processed after the configured latency", () => {
    const r = run(SMALL.replace("jitter: 1ms", "jitter: 0"));
    const first = recordsOf(r, "udev", "event")[0]!;
    expect(first.t).toBe(2_000_000);
  });

  it("children's events wait for their parent's event (devpath_conflict with an ancestor)", () => {
    const r = run(SMALL.replace("jitter: 1ms", "jitter: 0"));
    const done = (path: string): number => recordsOf(r, "udev", "event").find((x) => x.text.includes(` add ${path} `))!.t;
    const parent = done("/devices/pci0000:00/0000:00:1c.0");
    const child = done("/devices/pci0000:00/0000:00:1c.0/0000:01:00.0");
    const unrelated = done("/devices/pci0000:00/0000:03:00.0");
    expect(parent).toBe(2_000_000);
    expect(unrelated).toBe(2_000_000); // not blocked: runs in parallel with the bridge's event
    expect(child).toBeGreaterThanOrEqual(parent + 2_000_000);
  });

  it("events for the same devpath run one after another, in seqnum order", () => {
    const r = run(
      SMALL.replace("jitter: 1ms", "jitter: 0") +
        `script:
  - settle: true
  - write: /sys/bus/pci/devices/0000:03:00.0/uevent
    value: change
  - write: /sys/bus/pci/devices/0000:03:00.0/uevent
    value: change
  - settle: true
`,
    );
    const ev = recordsOf(r, "udev", "event").filter((x) => x.text.includes(" change /devices/pci0000:00/0000:03:00.0 "));
    expect(ev).toHaveLength(2);
    expect(ev[1]!.t - ev[0]!.t).toBe(2_000_000);
    const seqs = ev.map((x) => Number(/seq (\d+)/.exec(x.text)![1]));
    expect(seqs[0]).toBeLessThan(seqs[1]!);
  });

  it("children_max bounds the events in flight", () => {
    const r = run(SMALL.replace("udev: { latency: 2ms, jitter: 1ms }", "udev: { latency: 2ms, jitter: 0, childrenMax: 1 }"));
    const ts = recordsOf(r, "udev", "event").map((x) => x.t);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBeGreaterThanOrEqual(2_000_000);
  });
});

describe("80-drivers.rules: ADD with MODALIAS loads through kmod, blacklist applied", () => {
  it("loads each device's module and its dependencies; drivers bind", () => {
    const r = run(SMALL);
    expect(boundTo(r, "0000:01:00.0")).toBe("igb");
    expect(boundTo(r, "0000:01:00.1")).toBe("igb");
    expect(boundTo(r, "0000:03:00.0")).toBe("nvme");
    expect(lines(r, "kmod", "finit_module").map((l) => l.replace(/^finit_module \S+\//, ""))).toEqual(["nvme_core.ko", "nvme.ko", "igb.ko"]);
    expect(lines(r, "udev")).toContain("Module 'igb' is already loaded"); // the second port's event
  });

  it("a blacklisted module is not loaded by udev (KMOD_PROBE_APPLY_BLACKLIST), but an explicit modprobe loads it", () => {
    const yaml = SMALL.replace("name: small", "name: small\nmodprobe: { config: \"blacklist igb\\n\" }");
    const r = run(yaml);
    expect(lines(r, "udev")).toContain("Module 'igb' is deny-listed (by kmod)");
    expect(r.kernel.modules.has("igb")).toBe(false);
    expect(boundTo(r, "0000:01:00.0")).toBeNull();
    const r2 = run(yaml + "script:\n  - settle: true\n  - modprobe: igb\n    expect: \"0\"\n");
    expect(r2.failures).toBe(0);
    expect(boundTo(r2, "0000:01:00.0")).toBe("igb");
  });

  it("without the rule (driversRule: false) nothing is loaded", () => {
    const r = run(SMALL.replace("jitter: 1ms }", "jitter: 1ms, driversRule: false }"));
    expect(r.kernel.modules.size).toBe(0);
    expect(lines(r, "udev", "kmod_load")).toEqual([]);
    expect(lines(r, "udev", "event").length).toBeGreaterThan(0);
  });

  it("REMOVE, BIND and module events carry no load (ACTION==\"add\" only)", () => {
    const r = run(SMALL + "script:\n  - settle: true\n  - unplug: \"0000:03:00.0\"\n  - settle: true\n");
    const loads = lines(r, "udev", "kmod_load");
    expect(loads).toHaveLength(4); // the four devices' ADD events, nothing for bind/remove/module/drivers
  });
});

describe("modprobe failures", () => {
  it("an injected finit_module error leaves the module out and the device unbound; udev logs it", () => {
    const r = run(SMALL.replace("name: small", "name: small\nmodprobe: { failures: { igb: EIO } }"));
    expect(r.kernel.modules.has("igb")).toBe(false);
    expect(boundTo(r, "0000:01:00.0")).toBeNull();
    expect(lines(r, "udev")).toContain("Failed to insert module 'igb': errno -5");
    expect(boundTo(r, "0000:03:00.0")).toBe("nvme");
  });

  it("a module whose init fails is not live; modprobe exits 1 with kmod's message", () => {
    const yaml = SMALL.replace("    - name: igb\n", "    - name: igb\n      initResult: ENOMEM\n") + "script:\n  - settle: true\n  - modprobe: igb\n    expect: \"1\"\n";
    const r = run(yaml);
    expect(r.failures).toBe(0);
    expect(r.kernel.modules.has("igb")).toBe(false);
    expect(lines(r, "kmod", "modprobe_output").some((l) => l.includes("could not insert 'igb'"))).toBe(true);
  });

  it("modprobe of an unknown module exits 1 (FATAL: Module ... not found)", () => {
    const r = run(SMALL + "script:\n  - modprobe: no_such_thing\n    expect: \"1\"\n");
    expect(r.failures).toBe(0);
    expect(lines(r, "kmod", "modprobe_output").some((l) => l.includes("Module no_such_thing not found"))).toBe(true);
  });
});

describe("request_module (kernel/module/kmod.c __request_module)", () => {
  function sim(): Simulation {
    const s = new Simulation(loadScenario(SMALL.replace("jitter: 1ms }", "jitter: 1ms, driversRule: false }"), "t.yaml"));
    s.boot();
    s.sched.runAll();
    return s;
  }

  it("wait: modprobe runs now and its exit status comes back; the driver is registered on return", () => {
    const s = sim();
    expect(s.kernel.requestModule("igb", true)).toBe(0);
    expect(s.kernel.modules.get("igb")?.state).toBe("live");
    expect(s.kernel.device("pci", "0000:01:00.0").driver?.name).toBe("igb");
    expect(s.kernel.requestModule("nope", true)).toBe(1);
    expect(s.kernel.requestModuleState.inFlight).toBe(0);
  });

  it("nowait: returns 0 at once, the module loads when the queued usermode helper runs", () => {
    const s = sim();
    expect(s.kernel.requestModule("igb", false)).toBe(0);
    expect(s.kernel.modules.has("igb")).toBe(false);
    expect(s.kernel.requestModuleState.inFlight).toBe(1);
    s.sched.runAll();
    expect(s.kernel.modules.get("igb")?.state).toBe("live");
    expect(s.kernel.requestModuleState.inFlight).toBe(0);
    expect(s.kernel.requestModule("nope", false)).toBe(0); // failure is invisible to a nowait caller
  });

  it("the concurrency limit (kmod_concurrent_max = 50): the 51st outstanding request fails -ETIME", () => {
    const s = sim();
    for (let i = 0; i < 50; i++) expect(s.kernel.requestModule(`m${i}`, false)).toBe(0);
    expect(s.kernel.requestModule("igb", false)).toBe(-ETIME);
    expect(s.kernel.requestModule("igb", true)).toBe(-ETIME);
    s.sched.runAll();
    expect(s.kernel.requestModule("igb", true)).toBe(0);
  });

  it("names of MODULE_NAME_LEN or more are refused with -ENAMETOOLONG before modprobe runs", () => {
    const s = sim();
    expect(s.kernel.requestModule("x".repeat(56), true)).toBe(-ERRNO.ENAMETOOLONG);
    expect(s.kernel.requestModule("x".repeat(55), true)).toBe(1);
  });
});

describe("module unload and hotplug", () => {
  it("rmmod releases the driver's devices in reverse bind order (driver_detach takes the klist tail)", () => {
    const r = run(SMALL + "script:\n  - settle: true\n  - rmmod: igb\n  - settle: true\n");
    const bound = recordsOf(r, "kernel", "bound").filter((x) => x.driver === "igb").map((x) => x.device);
    const unbound = recordsOf(r, "kernel", "unbind").filter((x) => x.driver === "igb").map((x) => x.device);
    expect(bound).toHaveLength(2);
    expect(unbound).toEqual([...bound].reverse());
    expect(r.kernel.modules.has("igb")).toBe(false);
    const ue = recordsOf(r, "uevent").map((x) => x.text);
    const lastUnbind = ue.map((x, i) => (x.startsWith("unbind") ? i : -1)).filter((i) => i >= 0).at(-1)!;
    expect(ue.indexOf("remove /bus/pci/drivers/igb (drivers)")).toBeGreaterThan(lastUnbind);
    expect(ue.at(-1)).toBe("remove /module/igb (module)");
  });

  it("rmmod of a module in use fails (-EAGAIN) and changes nothing", () => {
    const r = run(SMALL + "script:\n  - settle: true\n  - rmmod: nvme_core\n");
    expect(lines(r, "script", "rmmod")).toEqual(["#2 delete_module(nvme_core) = -11 EAGAIN"]);
    expect(r.kernel.modules.get("nvme_core")?.refcnt).toBe(1);
  });

  it("hotplug add: ADD uevent, udev autoload, bind; unplug: UNBIND then REMOVE, children first", () => {
    const r = run(
      SMALL +
        `script:
  - settle: true
  - hotplug: { bus: pci, name: "0000:05:00.0", vendor: 0x8086, device: 0x1533, class: 0x020000 }
  - settle: true
  - expect: { bound: { "0000:05:00.0": igb } }
  - unplug: "0000:00:1c.0"
  - settle: true
`,
    );
    expect(r.failures).toBe(0);
    const ue = recordsOf(r, "uevent").map((x) => x.text);
    const i = ue.indexOf("unbind /devices/pci0000:00/0000:00:1c.0/0000:01:00.1 (pci)");
    expect(i).toBeGreaterThan(0);
    expect(ue.slice(i, i + 5)).toEqual([
      "unbind /devices/pci0000:00/0000:00:1c.0/0000:01:00.1 (pci)",
      "remove /devices/pci0000:00/0000:00:1c.0/0000:01:00.1 (pci)",
      "unbind /devices/pci0000:00/0000:00:1c.0/0000:01:00.0 (pci)",
      "remove /devices/pci0000:00/0000:00:1c.0/0000:01:00.0 (pci)",
      "remove /devices/pci0000:00/0000:00:1c.0 (pci)",
    ]);
    expect(r.state.devices.map((d) => d.name)).toEqual(["0000:03:00.0", "0000:05:00.0"]);
    expect(r.kernel.modules.get("igb")?.state).toBe("live"); // unplug never unloads modules
  });
});
