// Modules that register drivers: kernel/module/main.c (load_module, do_init_module, delete_module,
// ref_module), kernel/params.c + drivers/base/module.c (module_add_driver: /sys/module/<m>/drivers).
// Since 5.11 (38dc717e9715 "Delay uevent until module has finished its init routine") the module's
// KOBJ_ADD comes after its init, i.e. after its drivers' add and bind events.
import { ERRNO } from "../model/errno.ts";
import type { Kernel } from "./kernel.ts";
import type { Driver, KModule, ModuleImage } from "./types.ts";
import { driverRegister, driverUnregister } from "./registry.ts";
import { moduleUevent } from "./uevent.ts";

/** Runs module_init: registers each driver; on failure unregisters those already registered. */
function runInit(k: Kernel, mod: KModule, img: ModuleImage): number {
  const done: Driver[] = [];
  for (const spec of img.drivers) {
    const r = driverRegister(k, spec, mod.name);
    if (typeof r === "number") {
      for (const d of done.reverse()) driverUnregister(k, d);
      return r;
    }
    done.push(r);
  }
  if (img.initResult !== undefined && img.initResult < 0) {
    for (const d of done.reverse()) driverUnregister(k, d);
    return img.initResult;
  }
  return 0;
}

/**
 * finit_module(): -EEXIST when already loaded ("module is already loaded"), -ENOENT when no image or a
 * used module is missing (unknown symbol), the init's error; 0 and KOBJ_ADD of /module/<name> on success.
 */
export function loadModule(k: Kernel, name: string, params: string): number {
  const existing = k.modules.get(name);
  if (existing) return existing.state === "live" || existing.builtin ? -ERRNO.EEXIST : -ERRNO.EBUSY;
  const img = k.moduleImage(name);
  if (!img) {
    k.trace({ kind: "module_load", text: `${name}: no module image`, module: name, errno: -ERRNO.ENOENT });
    return -ERRNO.ENOENT;
  }
  const uses = img.uses ?? [];
  for (const u of uses) {
    const dep = k.modules.get(u);
    if (!dep || dep.state !== "live") {
      k.trace({ kind: "module_load", text: `${name}: Unknown symbol (needs ${u})`, module: name, errno: -ERRNO.ENOENT });
      return -ERRNO.ENOENT;
    }
  }
  for (const u of uses) k.modules.get(u)!.refcnt++; // ref_module()
  const mod: KModule = { name, state: "coming", builtin: false, drivers: [], uses: [...uses], refcnt: 0, params };
  k.modules.set(name, mod);
  k.trace({ kind: "module_load", text: `${name}: loading module${params ? ` (${params})` : ""}`, module: name });
  const ret = runInit(k, mod, img);
  if (ret < 0) {
    mod.state = "going";
    k.modules.delete(name);
    for (const u of uses) {
      const dep = k.modules.get(u);
      if (dep) dep.refcnt--;
    }
    k.trace({ kind: "module_load", text: `${name}: init failed with error ${ret}`, module: name, errno: ret });
    return ret;
  }
  mod.state = "live";
  moduleUevent(k, name, "add");
  return 0;
}

/**
 * delete_module(): -ENOENT if not loaded (or built in), -EWOULDBLOCK while other modules use it or it
 * holds references, -EBUSY if not live; else module_exit unregisters its drivers (last registered
 * first), each releasing its devices in reverse bind order, then KOBJ_REMOVE.
 */
export function unloadModule(k: Kernel, name: string): number {
  const mod = k.modules.get(name);
  if (!mod || mod.builtin) return -ERRNO.ENOENT;
  if (mod.state !== "live") return -ERRNO.EBUSY;
  if (mod.refcnt > 0) return -ERRNO.EAGAIN; // EWOULDBLOCK == EAGAIN
  mod.state = "going";
  k.trace({ kind: "module_unload", text: `${name}: unloading module`, module: name });
  for (let d = mod.drivers.at(-1); d; d = mod.drivers.at(-1)) {
    driverUnregister(k, d);
    if (mod.drivers.at(-1) === d) mod.drivers.pop();
  }
  moduleUevent(k, name, "remove");
  k.modules.delete(name);
  for (const u of mod.uses) {
    const dep = k.modules.get(u);
    if (dep) dep.refcnt--;
  }
  return 0;
}

/** A built-in module: live from boot, /sys/module/<name> exists (with drivers/) but has no initstate. */
export function registerBuiltinModule(k: Kernel, img: ModuleImage): number {
  if (k.modules.has(img.name)) return -ERRNO.EEXIST;
  const mod: KModule = { name: img.name, state: "live", builtin: true, drivers: [], uses: [], refcnt: 0, params: "" };
  k.modules.set(img.name, mod);
  return runInit(k, mod, img);
}
