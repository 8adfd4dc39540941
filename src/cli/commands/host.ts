// `kbind host ...`: inspect a real host (or a sysfs tree / snapshot) and switch device flavours
// safely. Thin: the logic is in src/host (switch.ts, inventory.ts, snapshot.ts, config-store.ts).
import { Command, Option } from "commander";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { KbindError } from "../../model/errors.ts";
import { atomicWriteFile } from "../../host/atomic-file.ts";
import { applyService, udevRules } from "../../host/boot-units.ts";
import { ConfigStore } from "../../host/config-store.ts";
import { readBindState } from "../../host/device-state.ts";
import { realHostDeps, type HostDeps } from "../../host/host-env.ts";
import { listPciDevices, NO_MODULES, parseModulesAlias, type DeviceRow, type ModulesInfo } from "../../host/inventory.ts";
import { FileJournal } from "../../host/journal.ts";
import { scenarioToFakeHost, snapshotToYaml, takeSnapshot, withVfioModules } from "../../host/snapshot.ts";
import { executePlan, isGroupSafeDriver, planSet, planUnset, planWrites, recoverInterrupted, type SwitchEnv, type SwitchPlan, type SwitchResult } from "../../host/switch.ts";
import { TmpdirSysfs } from "../../host/sysfs-tmpdir.ts";
import { resolveDevice } from "../../host/validate.ts";
import { ExitCode, type CliIo } from "../io.ts";

interface RootOpts {
  sysfsRoot: string;
  modulesDir?: string;
}
interface ConfigOpts extends RootOpts {
  configDir: string;
}

function loadModules(deps: HostDeps, o: RootOpts, required: boolean): ModulesInfo {
  const dir = o.modulesDir ?? join("/lib/modules", deps.kernelRelease());
  const p = join(dir, "modules.alias");
  if (!existsSync(p)) {
    if (required || o.modulesDir !== undefined) throw new KbindError("NO_MODULES_DIR", `no modules.alias in ${dir}`, { file: p, errno: "ENOENT" });
    return NO_MODULES;
  }
  return parseModulesAlias(readFileSync(p, "latin1"), p);
}

function requireRoot(deps: HostDeps, what: string): void {
  if (deps.getuid() !== 0) throw new KbindError("NOT_ROOT", `${what} writes to sysfs and /etc: run it as root (or use --dry-run)`, { errno: "EPERM" });
}

function pad(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  ").trimEnd()).join("\n") + "\n";
}

function renderList(rows: DeviceRow[]): string {
  const t = [["DEVICE", "CLASS", "ID", "DRIVER", "OVERRIDE", "IOMMU", "HOST FLAVOUR", "VFIO FLAVOUR"]];
  for (const r of rows) {
    const vfio = r.vfio.alias === null ? `${r.vfio.driver ?? r.vfio.module} (fallback)` : `${r.vfio.driver ?? r.vfio.module} (${r.vfio.wildcards ?? "?"} wildcards)`;
    t.push([r.device, r.classname, r.id, r.driver ?? "-", r.override ?? "-", r.iommuGroup ?? "-", r.hostModules.join(",") || "-", vfio]);
  }
  return pad(t);
}

function switchEnv(deps: HostDeps, o: ConfigOpts, io: CliIo, modules: ModulesInfo): SwitchEnv {
  const root = o.sysfsRoot;
  return {
    sysfs: deps.sysfs(root),
    modprobe: deps.modprobe(root),
    journal: new FileJournal(new ConfigStore(o.configDir).journalPath),
    mountinfo: () => deps.mountinfo(root),
    vfioAliases: modules.vfioAliases,
    log: (l) => io.out(`  ${l}\n`),
  };
}

function printPlan(io: CliIo, title: string, plan: SwitchPlan): void {
  io.out(`plan: ${title}\n`);
  for (const m of plan.members) {
    const why = m.choice === null ? "" : m.choice.alias === null ? ` via ${m.choice.module} (no vfio_pci: alias matched: vfio-pci fallback)` : ` via ${m.choice.module} (${m.choice.alias}, ${m.choice.wildcards ?? "?"} wildcards, modules.alias:${m.choice.line ?? "?"})`;
    io.out(`  ${m.device}: now driver ${m.original.driver ?? "(none)"}, override ${m.original.override ?? "(null)"}${why}\n`);
  }
  for (const w of planWrites(plan)) io.out(`  ${w}\n`);
  for (const n of plan.notes) io.out(`note: ${n}\n`);
}

function reportResult(io: CliIo, res: SwitchResult, journal: string): void {
  const fin = res.final.map((f) => `${f.device} driver ${f.state.driver ?? "(none)"}, override ${f.state.override ?? "(null)"}`).join("; ");
  if (res.status === "done" || res.status === "noop") {
    io.out(`${res.status === "noop" ? "nothing to do" : "done"}: ${fin}\n`);
    return;
  }
  io.err(`kbind: switch FAILED: ${res.failure ?? "?"}\n`);
  for (const r of res.restored) io.err(`kbind:   ${r}\n`);
  if (res.status === "rolled-back") {
    io.err(`kbind: previous state restored and verified: ${fin}\n`);
    throw new ExitCode(1);
  }
  io.err(`kbind: DEVICE NOT FULLY RESTORED: ${fin}; journal kept in ${journal}: run \`kbind host recover\`\n`);
  throw new ExitCode(3);
}

/**
 * --sandbox SNAPSHOT: run a mutating command on a temp-dir fake /sys built from a `host snapshot`
 * scenario (plus the vfio modules modules.alias names), with a temp config dir unless one is given:
 * nothing on this machine is touched. The fake lives for this one command.
 */
async function inSandbox<T extends { sandbox?: string; sysfsRoot: string; configDir?: string }>(
  deps: HostDeps,
  io: CliIo,
  o: T,
  modules: ModulesInfo,
  fn: (deps: HostDeps, o: T) => Promise<void>,
): Promise<void> {
  if (o.sandbox === undefined) {
    await fn(deps, o);
    return;
  }
  const fake = TmpdirSysfs.create(withVfioModules(scenarioToFakeHost(readFileSync(o.sandbox, "utf8"), o.sandbox), modules.vfioAliases));
  const tmpCfg = o.configDir === undefined || o.configDir === "/etc/kbind" ? mkdtempSync(join(tmpdir(), "kbind-sandbox-etc-")) : null;
  const sdeps: HostDeps = {
    getuid: () => 0,
    sysfs: () => fake,
    modprobe: () => fake.modprobePort(),
    mountinfo: () => Promise.resolve(""),
    kernelRelease: deps.kernelRelease,
  };
  try {
    await fn(sdeps, { ...o, sysfsRoot: fake.root, ...(tmpCfg !== null ? { configDir: tmpCfg } : {}) });
  } finally {
    io.out(`sandbox: ran on a temp-dir copy of ${o.sandbox}; nothing on this machine was touched\n`);
    fake.dispose();
    if (tmpCfg !== null) rmSync(tmpCfg, { recursive: true, force: true });
  }
}

/** A switch interrupted by a crash or kill -9 is finished or undone before anything is planned. */
async function recoverFirst(io: CliIo, env: SwitchEnv): Promise<void> {
  const rec = await recoverInterrupted(env);
  if (rec === null) return;
  io.out(`recovered an interrupted ${rec.journal.op} of ${rec.journal.members.map((m) => m.device).join(", ")}: ${rec.status}\n`);
  if (rec.status === "restore-failed") {
    for (const r of rec.restored) io.err(`kbind:   ${r}\n`);
    throw new KbindError("RESTORE_FAILED", `could not finish the interrupted switch; journal kept in ${env.journal.where}`, { file: env.journal.where });
  }
}

export function registerHost(program: Command, io: CliIo, deps: HostDeps): void {
  const host = program.command("host").description("Inspect a real host and switch device flavours (vfio) safely, with verify and rollback");
  const rootOpt = (): Option => new Option("--sysfs-root <dir>", "directory holding sys/ (a copy or fake of /sys)").default("/");
  const modOpt = (): Option => new Option("--modules-dir <dir>", "modules directory with modules.alias (default /lib/modules/$(uname -r))");
  const cfgOpt = (): Option => new Option("--config-dir <dir>", "persisted flavours and the switch journal").default("/etc/kbind");

  host
    .command("list")
    .description("per PCI device: class, driver, override, IOMMU group, and what each flavour would bind")
    .addOption(rootOpt())
    .addOption(modOpt())
    .option("--snapshot <file>", "read a `kbind host snapshot` scenario instead of a sysfs tree")
    .option("--json", "JSON output")
    .action(async (o: RootOpts & { snapshot?: string; json?: boolean }) => {
      const modules = loadModules(deps, o, false);
      let rows: DeviceRow[];
      if (o.snapshot !== undefined) {
        const fake = TmpdirSysfs.create(scenarioToFakeHost(readFileSync(o.snapshot, "utf8"), o.snapshot));
        try {
          rows = await listPciDevices(fake, modules);
        } finally {
          fake.dispose();
        }
      } else {
        rows = await listPciDevices(deps.sysfs(o.sysfsRoot), modules);
      }
      if (o.json) io.out(JSON.stringify({ modulesAlias: modules.source, devices: rows }, null, 2) + "\n");
      else {
        io.out(renderList(rows));
        if (modules.source === null) io.out("note: no modules.alias found: vfio flavour shown as the vfio-pci fallback, host flavour unknown\n");
      }
    });

  host
    .command("snapshot")
    .description("write the host's PCI devices and their drivers as a simulator scenario (read only; run it with `kbind sim`)")
    .addOption(rootOpt())
    .option("-o, --output <file>", "write to a file (atomically) instead of stdout")
    .action(async (o: RootOpts & { output?: string }) => {
      const snap = await takeSnapshot(deps.sysfs(o.sysfsRoot), o.sysfsRoot === "/" ? deps.kernelRelease() : null);
      const text = snapshotToYaml(snap);
      if (o.output !== undefined) atomicWriteFile(o.output, text);
      else io.out(text);
    });

  const flavour = host.command("flavour").description("put a device into a flavour (vfio) or take it back");
  const addSwitchOpts = (c: Command): Command =>
    c
      .addOption(rootOpt())
      .addOption(modOpt())
      .addOption(cfgOpt())
      .option("--dry-run", "print the plan (every write) and stop")
      .option("--persist", "record it in the config dir (applied at boot by `kbind host apply`)")
      .option("--group", "move the whole IOMMU group")
      .option("--force", "switch even if the device is in use (network interface up, disk mounted)")
      .option("--sandbox <snapshot>", "run on a temp-dir copy of a `kbind host snapshot` file instead of this machine");

  type SwitchCliOpts = ConfigOpts & { sandbox?: string; dryRun?: boolean; persist?: boolean; group?: boolean; force?: boolean; module?: string; hostDriver?: string };
  const checkFlavour = (f: string): void => {
    if (f !== "vfio") throw new KbindError("UNKNOWN_FLAVOUR", `unknown flavour ${JSON.stringify(f)} (known: vfio)`, {});
  };

  addSwitchOpts(flavour.command("set").argument("<device>", "PCI address, or BUS/DEVICE").argument("<flavour>", "vfio"))
    .option("--module <name>", "use this vfio module instead of the best vfio_pci: alias match")
    .description("modprobe, set driver_override, unbind, drivers_probe, verify; roll back on any failure")
    .action(async (device: string, fl: string, opts: SwitchCliOpts) => {
      checkFlavour(fl);
      const modules = loadModules(deps, opts, false);
      await inSandbox(deps, io, opts, modules, async (deps, o) => {
      if (!o.dryRun) requireRoot(deps, "host flavour set");
      if (!o.dryRun) await recoverFirst(io, switchEnv(deps, o, io, modules));
      const env = switchEnv(deps, o, io, modules);
      const plan = await planSet(env, device, { group: o.group, force: o.force, module: o.module });
      printPlan(io, `host flavour set ${device} vfio`, plan);
      if (o.dryRun) {
        io.out("dry run: nothing written\n");
        return;
      }
      const res = await executePlan(env, plan);
      reportResult(io, res, env.journal.where);
      if (o.persist) {
        const store = new ConfigStore(o.configDir);
        for (const m of plan.members) {
          const st = await readBindState(env.sysfs, m.bus, m.device);
          const prev = store.get(m.bus, m.device);
          const hostDriver = m.original.driver !== null && !isGroupSafeDriver(m.original.driver) ? m.original.driver : (prev?.hostDriver ?? null);
          store.put({ bus: m.bus, device: m.device, flavour: "vfio", module: m.module ?? "vfio_pci", driver: st.driver ?? "vfio-pci", hostDriver });
          io.out(`persisted: ${store.dir}/devices/${m.bus}-${m.device}.json\n`);
        }
      }
      });
    });

  addSwitchOpts(flavour.command("unset").argument("<device>", "PCI address, or BUS/DEVICE").argument("<flavour>", "vfio"))
    .option("--host-driver <name>", "the driver that must bind afterwards (default: the persisted one, else any non-vfio driver)")
    .description("clear driver_override, unbind the vfio driver, drivers_probe, verify a host driver bound; roll back on failure")
    .action(async (device: string, fl: string, opts: SwitchCliOpts) => {
      checkFlavour(fl);
      const modules = loadModules(deps, opts, false);
      await inSandbox(deps, io, opts, modules, async (deps, o) => {
      if (!o.dryRun) requireRoot(deps, "host flavour unset");
      if (!o.dryRun) await recoverFirst(io, switchEnv(deps, o, io, modules));
      const env = switchEnv(deps, o, io, modules);
      const store = new ConfigStore(o.configDir);
      const ref = await resolveDevice(env.sysfs, device);
      const hostDriver = o.hostDriver ?? store.get(ref.bus, ref.device)?.hostDriver ?? null;
      const plan = await planUnset(env, device, { group: o.group, force: o.force, hostDriver });
      printPlan(io, `host flavour unset ${device} vfio`, plan);
      if (o.dryRun) {
        io.out("dry run: nothing written\n");
        return;
      }
      const res = await executePlan(env, plan);
      reportResult(io, res, env.journal.where);
      if (o.persist) {
        for (const m of plan.members) store.remove(m.bus, m.device);
        io.out(`persisted: removed ${plan.members.map((m) => `${store.dir}/devices/${m.bus}-${m.device}.json`).join(", ")}\n`);
      }
      });
    });

  host
    .command("apply")
    .description("apply the persisted flavours (idempotent; run at boot by kbind-apply.service)")
    .addOption(rootOpt())
    .addOption(modOpt())
    .addOption(cfgOpt())
    .option("--dry-run", "print what would be done")
    .action(async (o: ConfigOpts & { dryRun?: boolean }) => {
      if (!o.dryRun) requireRoot(deps, "host apply");
      const modules = loadModules(deps, o, false);
      const env = switchEnv(deps, o, io, modules);
      if (!o.dryRun) {
        const rec = await recoverInterrupted(env);
        if (rec !== null) io.out(`recovered an interrupted switch: ${rec.status}\n`);
      }
      let failed = 0;
      const configs = new ConfigStore(o.configDir).all();
      const configured = new Set(configs.map((c) => `${c.bus}/${c.device}`));
      for (const c of configs) {
        if (!(await env.sysfs.exists(`/sys/bus/${c.bus}/devices/${c.device}`))) {
          io.out(`${c.device}: not present, skipped\n`);
          continue;
        }
        const st = await readBindState(env.sysfs, c.bus, c.device);
        if (st.driver === c.driver && st.override === c.driver) {
          io.out(`${c.device}: ok (${c.driver})\n`);
          continue;
        }
        let plan: SwitchPlan;
        try {
          plan = await planSet(env, `${c.bus}/${c.device}`, { module: c.module, force: false });
        } catch (e) {
          // Group members persisted together are moved together (each alone is never viable).
          if (!(e instanceof KbindError && e.code === "GROUP_NOT_VIABLE")) throw e;
          plan = await planSet(env, `${c.bus}/${c.device}`, { module: c.module, force: false, group: true });
          const strangers = plan.members.filter((m) => !configured.has(`${m.bus}/${m.device}`)).map((m) => m.device);
          if (strangers.length > 0) throw new KbindError("GROUP_NOT_VIABLE", `${e.message}; not persisted: ${strangers.join(", ")}`, e.location);
        }
        if (o.dryRun) {
          printPlan(io, `apply ${c.device}`, plan);
          continue;
        }
        const res = await executePlan(env, plan);
        if (res.status === "done" || res.status === "noop") io.out(`${plan.members.map((m) => m.device).join(", ")}: applied (${c.driver})\n`);
        else {
          failed++;
          io.err(`kbind: ${c.device}: ${res.failure ?? "?"}; ${res.restored.join("; ")}\n`);
        }
      }
      if (failed > 0) throw new ExitCode(1);
    });

  host
    .command("status")
    .description("persisted flavours against reality (exit 1 on drift)")
    .addOption(rootOpt())
    .addOption(cfgOpt())
    .option("--json", "JSON output")
    .action(async (o: ConfigOpts & { json?: boolean }) => {
      const sysfs = deps.sysfs(o.sysfsRoot);
      const store = new ConfigStore(o.configDir);
      const out: { device: string; flavour: string; want: string; driver: string | null; override: string | null; state: string }[] = [];
      for (const c of store.all()) {
        if (!(await sysfs.exists(`/sys/bus/${c.bus}/devices/${c.device}`))) {
          out.push({ device: c.device, flavour: c.flavour, want: c.driver, driver: null, override: null, state: "drift: device missing" });
          continue;
        }
        const st = await readBindState(sysfs, c.bus, c.device);
        const drift: string[] = [];
        if (st.driver !== c.driver) drift.push(`bound to ${st.driver ?? "(none)"}`);
        if (st.override !== c.driver) drift.push(`override ${st.override ?? "(null)"}`);
        out.push({ device: c.device, flavour: c.flavour, want: c.driver, driver: st.driver, override: st.override, state: drift.length === 0 ? "ok" : `drift: ${drift.join(", ")}` });
      }
      const journal = new FileJournal(store.journalPath).read();
      if (o.json) io.out(JSON.stringify({ devices: out, interruptedSwitch: journal }, null, 2) + "\n");
      else {
        if (out.length === 0) io.out(`no persisted flavours in ${store.dir}\n`);
        else io.out(pad([["DEVICE", "FLAVOUR", "WANT", "DRIVER", "OVERRIDE", "STATE"], ...out.map((r) => [r.device, r.flavour, r.want, r.driver ?? "-", r.override ?? "-", r.state])]));
        if (journal !== null) io.out(`interrupted switch pending (${journal.op} ${journal.members.map((m) => m.device).join(",")}, step ${journal.step}): run \`kbind host recover\`\n`);
      }
      if (out.some((r) => r.state !== "ok") || journal !== null) throw new ExitCode(1);
    });

  host
    .command("recover")
    .description("finish or roll back a switch interrupted by a crash or kill -9")
    .addOption(rootOpt())
    .addOption(cfgOpt())
    .action(async (o: ConfigOpts) => {
      requireRoot(deps, "host recover");
      const env = switchEnv(deps, o, io, NO_MODULES);
      const rec = await recoverInterrupted(env);
      if (rec === null) {
        io.out("no interrupted switch\n");
        return;
      }
      io.out(`${rec.status}: ${rec.journal.op} of ${rec.journal.members.map((m) => m.device).join(", ")} (interrupted at: ${rec.journal.step})\n`);
      for (const r of rec.restored) io.out(`  ${r}\n`);
      if (rec.status === "restore-failed") throw new ExitCode(3);
    });

  host
    .command("install-boot")
    .description("generate the udev rule and systemd unit that apply the persisted flavours at boot (never installs them)")
    .addOption(cfgOpt())
    .requiredOption("--target <dir>", "directory to write 05-kbind.rules and kbind-apply.service into")
    .option("--kbind-path <path>", "the kbind executable the unit runs", "/usr/bin/kbind")
    .action((o: { configDir: string; target: string; kbindPath: string }) => {
      const target = resolve(o.target);
      if (/^\/(etc|lib|usr|run)(\/|$)/.test(target)) {
        throw new KbindError("REFUSED_TARGET", `kbind generates, it does not install: write to a staging dir and copy ${target} yourself`, { file: target });
      }
      if (!isAbsolute(o.kbindPath)) throw new KbindError("BAD_PATH", "--kbind-path must be absolute (systemd ExecStart)", {});
      const configs = new ConfigStore(o.configDir).all();
      atomicWriteFile(join(target, "05-kbind.rules"), udevRules(configs));
      atomicWriteFile(join(target, "kbind-apply.service"), applyService({ configDir: o.configDir, kbindPath: o.kbindPath }));
      io.out(`wrote ${join(target, "05-kbind.rules")} (${configs.length} device(s)) and ${join(target, "kbind-apply.service")}\n`);
      io.out(`install: cp 05-kbind.rules /etc/udev/rules.d/ && cp kbind-apply.service /etc/systemd/system/ && systemctl enable kbind-apply.service\n`);
    });
}

export function register(program: Command, io: CliIo): void {
  registerHost(program, io, realHostDeps);
}
