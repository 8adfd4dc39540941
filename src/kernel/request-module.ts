// request_module(): kernel/module/kmod.c __request_module, call_modprobe. The kernel runs userspace
// `modprobe -q -- <name>` (modprobe_path) with a fixed environment; at most 50 run concurrently
// (kmod_concurrent_max), a request waiting more than 5 s for a slot fails.
import { ERRNO } from "../model/errno.ts";
import type { Kernel } from "./kernel.ts";

/** MODULE_NAME_LEN = 64 - sizeof(unsigned long) on 64-bit. */
export const MODULE_NAME_LEN = 56;
/** -ETIME from down_timeout() (errno 62; not in the shared errno table). */
export const ETIME = 62;

export interface RequestModuleState {
  inFlight: number;
  max: number;
}

/** call_modprobe()'s environment. */
export const CALL_MODPROBE_ENV: Readonly<Record<string, string>> = Object.freeze({
  HOME: "/",
  TERM: "linux",
  PATH: "/sbin:/usr/sbin:/bin:/usr/bin",
});

/**
 * __request_module(wait, name): -ENAMETOOLONG (name >= MODULE_NAME_LEN), -ENOENT (no modprobe_path),
 * -ETIME (all 50 slots busy), else with wait the modprobe exit status, without wait 0 once queued.
 * Success does not mean a driver registered: callers must look again.
 */
export function requestModule(k: Kernel, name: string, wait: boolean): number {
  if (name.length >= MODULE_NAME_LEN) return -ERRNO.ENAMETOOLONG;
  const call = k.host.callModprobe;
  if (!call) return -ERRNO.ENOENT;
  const st = k.requestModuleState;
  if (st.inFlight >= st.max) {
    k.trace({ kind: "request_module", text: `request_module: modprobe ${name} cannot be processed, kmod busy with ${st.max} threads for more than 5 seconds now`, module: name, errno: -ETIME });
    return -ETIME;
  }
  k.trace({ kind: "request_module", text: `request_module: ${name} wait=${wait ? 1 : 0}`, module: name });
  const argv = ["/sbin/modprobe", "-q", "--", name];
  st.inFlight++;
  if (wait) {
    try {
      return call(argv, { ...CALL_MODPROBE_ENV }, true);
    } finally {
      st.inFlight--;
    }
  }
  k.host.queueWork(`call_modprobe ${name}`, () => {
    try {
      k.op(() => call(argv, { ...CALL_MODPROBE_ENV }, false));
    } finally {
      st.inFlight--;
    }
  });
  return 0;
}
