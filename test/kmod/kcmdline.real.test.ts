// kmod_config_parse_kcmdline / kcmdline_parse_result (libkmod-config.c, kmod 30) vs the real
// kmod: random kernel command lines (quotes, dots, '=', brackets, modprobe.blacklist=...) are
// bind-mounted over /proc/cmdline inside a private mount namespace (`unshare -m`, root only — the
// host's /proc/cmdline is untouched), then `modprobe -c` of both is compared (stdout and stderr).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modprobe } from "../../src/kmod/modprobe.ts";
import { ModuleDir } from "../../src/kmod/module-dir.ts";
import { FakeKernel } from "./helpers/fake-kernel.ts";
import { rng } from "./helpers/gen-tree.ts";
import { haveRealKmod, tempRoot } from "./helpers/real-kmod.ts";

function canUnshare(): boolean {
  if (!haveRealKmod() || process.getuid?.() !== 0) return false;
  return spawnSync("unshare", ["-m", "sh", "-c", "mount --bind /proc/version /proc/cmdline && umount /proc/cmdline"]).status === 0;
}

const PARTS = ["psmouse", "mod_a", "mod-b", ".", ".", "=", "=", '"', " ", " ", "foo", "bar=1", "x y", "modprobe.blacklist=", "a,b", "[14:00", "]", "1.5G", "--", "quiet", "\t", "dyndbg=+p"];

function cmdline(r: () => number): string {
  let s = "";
  for (let n = 1 + Math.floor(r() * 14); n > 0; n--) s += PARTS[Math.floor(r() * PARTS.length)]!;
  return s + (r() < 0.8 ? "\n" : "");
}

describe.skipIf(!canUnshare())("kernel command line options/blacklist vs real kmod 30 (kmod_config_parse_kcmdline)", () => {
  it("modprobe -c output identical for 400 random command lines", () => {
    const root = tempRoot();
    const empty = join(root, "empty");
    mkdirSync(empty);
    mkdirSync(join(root, "lib/modules/1.0"), { recursive: true });
    const r = rng(99);
    const lines = Array.from({ length: 400 }, () => cmdline(r));
    lines.push('psmouse.foo parport.dyndbg="file drivers/parport/ieee1284_ops.c +mpf" quiet rw\n', '"parport.dyndbg=file a.c +mpf" rw\n', "ivrs_acpihid[14:00.5]=AMD0020:00 psmouse.bar=1\n");
    const MARK = "\u0001KBIND\u0001";
    const script = ["#!/bin/sh"];
    lines.forEach((l, i) => {
      const f = join(root, `cmdline-${i}`);
      writeFileSync(f, l, "latin1");
      script.push(`mount --bind '${f}' /proc/cmdline; printf '${MARK}\\n'; modprobe -d '${root}' -S 1.0 -C '${empty}' -c 2>&1; umount /proc/cmdline`);
    });
    writeFileSync(join(root, "run.sh"), script.join("\n") + "\n");
    const out = execFileSync("unshare", ["-m", "sh", join(root, "run.sh")], { encoding: "latin1" }).split(`${MARK}\n`).slice(1);
    expect(out).toHaveLength(lines.length);
    const diffs: string[] = [];
    lines.forEach((l, i) => {
      const kernel = new FakeKernel();
      kernel.cmdline = l;
      const k = modprobe(["-d", root, "-S", "1.0", "-C", empty, "-c"], {
        kernel,
        unameRelease: "1.0",
        env: {},
        openModuleDir: () => ModuleDir.fromFiles(new Map()),
        readConfigPath: (p) => ({ kind: "dir", path: p, entries: [] }),
      });
      // The real run merges stderr into stdout (2>&1): libkmod's config messages come first.
      if (k.stderr + k.stdout !== out[i]) diffs.push(`${JSON.stringify(l)}\n real ${JSON.stringify(out[i])}\n kbind ${JSON.stringify(k.stderr + k.stdout)}`);
    });
    expect(diffs.slice(0, 5).join("\n")).toBe("");
  });
});
