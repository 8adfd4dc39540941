// Scenario files: YAML validated with zod; every error names file:line:column (yaml's LineCounter and
// node ranges). A scenario describes a machine (devices and topology), module trees (a real modules
// directory by path, or inline modules with ID tables and driver names), driver behaviour, userspace
// settings and a script of actions with expectations. See docs/driver-core.md for the format.
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import { z } from "zod";
import { KbindError } from "../model/errors.ts";
import { ERRNO, isErrnoName } from "../model/errno.ts";
import { PCI_ANY_ID } from "../model/pci.ts";
import { VIRTIO_DEV_ANY_ID } from "../model/virtio.ts";
import { parseDuration } from "./clock.ts";

// ---- value schemas -----------------------------------------------------------------------------

const u32 = z.number().int().min(0).max(0xffffffff);
const anyId = z.union([u32, z.literal("*")]).transform((v) => (v === "*" ? PCI_ANY_ID : v));
const duration = z.union([z.string(), z.number().nonnegative()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
    return z.NEVER;
  }
});
/** An errno as -19, 19, "ENODEV" or "-ENODEV"; always negative (0 allowed). */
const errno = z.union([z.number().int(), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") return v > 0 ? -v : v;
  const name = v.replace(/^-/, "");
  if (isErrnoName(name)) return -ERRNO[name];
  ctx.addIssue({ code: "custom", message: `unknown errno "${v}"` });
  return z.NEVER;
});

const pciIdSchema = z
  .object({
    vendor: anyId,
    device: anyId,
    subvendor: anyId.optional(),
    subdevice: anyId.optional(),
    class: u32.optional(),
    classMask: u32.optional(),
    driverData: z.number().int().nonnegative().optional(),
    overrideOnly: z.boolean().optional(),
  })
  .strict();

const ofIdSchema = z.union([z.string(), z.object({ name: z.string().optional(), type: z.string().optional(), compatible: z.string().optional() }).strict()]);

const probeSchema = z
  .object({
    result: errno.optional(),
    time: duration.optional(),
    deferUntilBound: z.array(z.string().regex(/^[a-z]+:.+$/, 'expected "<bus>:<device>"')).optional(),
    resultFor: z.record(z.string(), errno).optional(),
  })
  .strict();

const driverSchema = z
  .object({
    name: z.string().min(1),
    bus: z.enum(["pci", "platform", "virtio"]),
    ids: z.array(pciIdSchema).optional(),
    of: z.array(ofIdSchema).optional(),
    acpi: z.array(z.string()).optional(),
    platformIds: z.array(z.string()).optional(),
    virtioIds: z.array(z.object({ device: u32, vendor: z.union([u32, z.literal("*")]).optional() }).strict()).optional(),
    probeType: z.enum(["default", "prefer_async", "force_sync"]).optional(),
    probe: probeSchema.optional(),
    sriovConfigure: z.boolean().optional(),
    preventDeferredProbe: z.boolean().optional(),
    suppressBindAttrs: z.boolean().optional(),
  })
  .strict();

const inlineModuleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, "module names are letters, digits, '_' and '-'"),
    relpath: z.string().optional(),
    drivers: z.array(driverSchema).default([]),
    depends: z.array(z.string()).optional(),
    softdep: z.string().optional(),
    aliases: z.array(z.string()).optional(),
    builtin: z.boolean().optional(),
    initResult: errno.optional(),
  })
  .strict();

const deviceSchema = z
  .object({
    bus: z.enum(["pci", "platform", "virtio", "none"]),
    name: z.string().min(1),
    parent: z.string().optional(),
    vendor: u32.optional(),
    device: u32.optional(),
    subvendor: u32.optional(),
    subdevice: u32.optional(),
    class: u32.optional(),
    revision: u32.optional(),
    sriov: z.object({ totalVFs: z.number().int().min(1).max(0xffff), offset: z.number().int().min(0), stride: z.number().int().min(0), vfDevice: u32 }).strict().optional(),
    iommuGroup: z.number().int().nonnegative().optional(),
    driverOverride: z.string().optional(),
    of: z.object({ fullName: z.string(), compatible: z.array(z.string()), type: z.string().nullable().optional() }).strict().optional(),
    acpi: z.object({ ids: z.array(z.string()), name: z.string().optional(), present: z.boolean().optional(), ofCompatible: z.array(z.string()).optional() }).strict().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.bus === "pci") {
      if (d.vendor === undefined) ctx.addIssue({ code: "custom", path: ["vendor"], message: "a pci device needs vendor" });
      if (d.device === undefined) ctx.addIssue({ code: "custom", path: ["device"], message: "a pci device needs device" });
      if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/.test(d.name)) ctx.addIssue({ code: "custom", path: ["name"], message: `pci device names are DDDD:BB:DD.F (lower-case hex): "${d.name}"` });
    }
    if (d.bus === "virtio" && d.device === undefined) ctx.addIssue({ code: "custom", path: ["device"], message: "a virtio device needs device" });
  });

const expectSchema = z
  .object({
    bound: z.record(z.string(), z.string().nullable()).optional(),
    loaded: z.array(z.string()).optional(),
    notLoaded: z.array(z.string()).optional(),
    deferred: z.array(z.string()).optional(),
  })
  .strict();

const actionSchema = z
  .object({
    at: duration.optional(),
    write: z.string().optional(),
    value: z.string().optional(),
    read: z.string().optional(),
    readlink: z.string().optional(),
    expect: z.union([z.string(), z.null(), expectSchema]).optional(),
    expectErrno: z.string().optional(),
    hotplug: deviceSchema.optional(),
    unplug: z.string().optional(),
    modprobe: z.string().optional(),
    insmod: z.string().optional(),
    rmmod: z.string().optional(),
    wait: duration.optional(),
    settle: z.literal(true).optional(),
    trigger: z.literal(true).optional(),
    lateInitcall: z.literal(true).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const verbs = ["write", "read", "readlink", "hotplug", "unplug", "modprobe", "insmod", "rmmod", "wait", "settle", "trigger", "lateInitcall"].filter((v) => (a as Record<string, unknown>)[v] !== undefined);
    const isExpectOnly = verbs.length === 0 && a.expect !== undefined;
    if (verbs.length > 1) ctx.addIssue({ code: "custom", message: `one action per step, got ${verbs.join(", ")}` });
    if (verbs.length === 0 && !isExpectOnly) ctx.addIssue({ code: "custom", message: "empty step: give one of write, read, readlink, hotplug, unplug, modprobe, insmod, rmmod, wait, settle, trigger, lateInitcall, expect" });
    if (a.write !== undefined && a.value === undefined) ctx.addIssue({ code: "custom", path: ["value"], message: "write needs a value" });
    if (isExpectOnly && (typeof a.expect !== "object" || a.expect === null)) ctx.addIssue({ code: "custom", path: ["expect"], message: "a lone expect must be a state expectation {bound, loaded, notLoaded, deferred}" });
  });

export const scenarioSchema = z
  .object({
    name: z.string().default("scenario"),
    description: z.string().optional(),
    seed: z.number().int().optional(),
    kernel: z
      .object({
        release: z.string().default("6.1.0-kbind"),
        cmdline: z.string().default(""),
        /**
         * "enabled" (default); "late": deferred probing off while the machine's devices are added, then
         * the boot's late_initcall; "manual": off until a script `lateInitcall` step.
         */
        deferredProbe: z.enum(["enabled", "late", "manual"]).default("enabled"),
      })
      .strict()
      .default({ release: "6.1.0-kbind", cmdline: "", deferredProbe: "enabled" }),
    udev: z
      .object({ latency: duration.optional(), jitter: duration.optional(), childrenMax: z.number().int().min(1).optional(), driversRule: z.boolean().optional() })
      .strict()
      .default({}),
    modprobe: z
      .object({
        config: z.union([z.string(), z.array(z.object({ path: z.string(), text: z.string() }).strict())]).optional(),
        failures: z.record(z.string(), errno).optional(),
      })
      .strict()
      .default({}),
    modules: z
      .object({ dir: z.string().optional(), inline: z.array(inlineModuleSchema).default([]), order: z.array(z.string()).optional() })
      .strict()
      .default({ inline: [] }),
    machine: z.object({ devices: z.array(deviceSchema).default([]) }).strict().default({ devices: [] }),
    script: z.array(actionSchema).default([]),
  })
  .strict();

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioDevice = z.output<typeof deviceSchema>;
export type ScenarioDriver = z.output<typeof driverSchema>;
export type ScenarioModule = z.output<typeof inlineModuleSchema>;
export type ScenarioAction = z.output<typeof actionSchema>;
export type ScenarioExpect = z.output<typeof expectSchema>;

export { VIRTIO_DEV_ANY_ID };

/** A parsed scenario with a locator for semantic errors found later (unknown parent, ...). */
export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  /** Location of the node at `path` (or its nearest existing ancestor). */
  locate: (path: readonly (string | number)[]) => { file: string; line: number; column: number };
}

/** Throws KbindError("SCENARIO", message, {file, line, column}). */
export function scenarioError(s: LoadedScenario, path: readonly (string | number)[], message: string): never {
  const loc = s.locate(path);
  throw new KbindError("SCENARIO", message, loc);
}

/** Parses and validates scenario YAML. */
export function loadScenario(text: string, file = "scenario.yaml"): LoadedScenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { file: string; line: number; column: number } => {
    const p = lc.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const loc = at(e.pos[0]);
    throw new KbindError("SCENARIO_YAML", e.message.split("\n")[0]!, loc);
  }
  const locate = (path: readonly (string | number)[]): { file: string; line: number; column: number } => {
    let node: unknown = doc.contents;
    let best = (doc.contents as YamlNode | null)?.range?.[0] ?? 0;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
        if (!pair) break;
        const kr = (pair.key as YamlNode | null)?.range;
        node = pair.value;
        best = (node as YamlNode | null)?.range?.[0] ?? kr?.[0] ?? best;
      } else if (isSeq(node) && typeof key === "number") {
        const item = node.items[key];
        if (item === undefined) break;
        node = item;
        best = (item as YamlNode | null)?.range?.[0] ?? best;
      } else break;
    }
    return at(best);
  };
  const raw: unknown = doc.toJS() ?? {};
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p === "string" || typeof p === "number");
    // An unknown key is reported at the key itself, not at the map holding it.
    if (issue.code === "unrecognized_keys" && issue.keys[0] !== undefined) {
      const loc = locateKey(doc, lc, file, path, issue.keys[0]);
      const where = path.length ? ` (at ${path.join(".")})` : "";
      throw new KbindError("SCENARIO", `${issue.message}${where}`, loc);
    }
    const loc = locate(path);
    const where = path.length ? ` (at ${path.join(".")})` : "";
    throw new KbindError("SCENARIO", `${issue.message}${where}`, loc);
  }
  const loaded = { scenario: r.data, file, locate };
  checkReferences(loaded);
  return loaded;
}

/** The position of `key` itself inside the map at `path`. */
function locateKey(doc: ReturnType<typeof parseDocument>, lc: LineCounter, file: string, path: readonly (string | number)[], key: string): { file: string; line: number; column: number } {
  let node: unknown = doc.contents;
  for (const k of path) {
    if (isMap(node)) node = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === k)?.value;
    else if (isSeq(node) && typeof k === "number") node = node.items[k];
    else node = undefined;
  }
  let offset = (node as YamlNode | null | undefined)?.range?.[0] ?? 0;
  if (isMap(node)) {
    const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    offset = (pair?.key as YamlNode | null | undefined)?.range?.[0] ?? offset;
  }
  const p = lc.linePos(offset);
  return { file, line: p.line, column: p.col };
}

const BUSES = new Set(["pci", "platform", "virtio"]);

/**
 * Cross-references a schema cannot see, each reported where it is written: a module named twice, a
 * `depends` or `modules.order` entry naming no inline module, two machine devices with one name, a
 * `deferUntilBound` supplier on an unknown bus.
 */
function checkReferences(l: LoadedScenario): void {
  const sc = l.scenario;
  const norm = (n: string): string => n.replace(/-/g, "_");
  const names = new Map<string, number>();
  sc.modules.inline.forEach((m, i) => {
    const prev = names.get(norm(m.name));
    if (prev !== undefined) scenarioError(l, ["modules", "inline", i, "name"], `module "${m.name}" is already defined at modules.inline.${prev}`);
    names.set(norm(m.name), i);
  });
  if (sc.modules.dir === undefined) {
    sc.modules.inline.forEach((m, i) => {
      (m.depends ?? []).forEach((d, j) => {
        const t = names.get(norm(d));
        if (t === undefined) scenarioError(l, ["modules", "inline", i, "depends", j], `module "${m.name}" depends on "${d}", which is not an inline module`);
        if (sc.modules.inline[t]!.builtin) scenarioError(l, ["modules", "inline", i, "depends", j], `module "${m.name}" depends on "${d}", which is built in (depmod lists only loadable modules)`);
      });
    });
    (sc.modules.order ?? []).forEach((n, i) => {
      if (!names.has(norm(n))) scenarioError(l, ["modules", "order", i], `modules.order names "${n}", which is not an inline module`);
    });
  }
  const devs = new Map<string, number>();
  sc.machine.devices.forEach((d, i) => {
    const key = `${d.bus}:${d.name}`;
    const prev = devs.get(key);
    if (prev !== undefined) scenarioError(l, ["machine", "devices", i, "name"], `${d.bus} device "${d.name}" is already defined at machine.devices.${prev}`);
    devs.set(key, i);
  });
  sc.modules.inline.forEach((m, i) => {
    m.drivers.forEach((drv, j) => {
      (drv.probe?.deferUntilBound ?? []).forEach((s, k) => {
        const bus = s.slice(0, s.indexOf(":"));
        if (!BUSES.has(bus)) scenarioError(l, ["modules", "inline", i, "drivers", j, "probe", "deferUntilBound", k], `unknown bus "${bus}" in supplier "${s}" (pci, platform or virtio)`);
      });
    });
  });
}
