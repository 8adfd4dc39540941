// The real sysfs adapter on a temp dir (never /sys), the modprobe process port with an injected
// exec, atomic files, validation, mountinfo parsing, the config store.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RealSysfs } from "../../src/host/sysfs-real.ts";
import { ProcessModprobe } from "../../src/host/modprobe-process.ts";
import { atomicWriteFile } from "../../src/host/atomic-file.ts";
import { ConfigStore } from "../../src/host/config-store.ts";
import { parseMountinfo } from "../../src/host/in-use.ts";
import { validateDeviceName, validateDriverName, validateModuleName } from "../../src/host/validate.ts";
import { parseOverride, resolveLink } from "../../src/host/device-state.ts";
import { KbindError } from "../../src/model/errors.ts";
import { SysfsError } from "../../src/ports.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kbind-adapt-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof SysfsError ? e.errno : String(e);
  }
}

describe("RealSysfs over a temp root", () => {
  it("maps /sys paths under the root, writes the bytes in one write(2), reads links and lists sorted", async () => {
    mkdirSync(join(dir, "sys/bus/pci/devices"), { recursive: true });
    writeFileSync(join(dir, "sys/bus/pci/attr"), "old-content\n");
    symlinkSync("../../../devices/x", join(dir, "sys/bus/pci/devices/b"));
    writeFileSync(join(dir, "sys/bus/pci/devices/a"), "");
    const s = new RealSysfs(dir);
    expect(await s.write("/sys/bus/pci/attr", "ab\0c\n")).toBe(5);
    expect(readFileSync(join(dir, "sys/bus/pci/attr"), "latin1")).toBe("ab\0c\n");
    expect(await s.read("/sys/bus/pci/attr")).toBe("ab\0c\n");
    expect(await s.readlink("/sys/bus/pci/devices/b")).toBe("../../../devices/x");
    expect(await s.readlink("/sys/bus/pci/devices/a")).toBe(null);
    expect(await s.list("/sys/bus/pci/devices")).toEqual(["a", "b"]);
  });

  it("never creates files and reports the errno: ENOENT, ENOTDIR, EISDIR", async () => {
    mkdirSync(join(dir, "sys/d"), { recursive: true });
    writeFileSync(join(dir, "sys/f"), "");
    const s = new RealSysfs(dir);
    expect(await errnoOf(s.write("/sys/d/missing", "x"))).toBe("ENOENT");
    expect(readdirSync(join(dir, "sys/d"))).toEqual([]);
    expect(await errnoOf(s.list("/sys/f"))).toBe("ENOTDIR");
    expect(await errnoOf(s.write("/sys/d", "x"))).toBe("EISDIR");
    expect(await errnoOf(s.read("/sys/nope"))).toBe("ENOENT");
  });

  it("refuses paths outside /sys and '..' components before touching the file system", async () => {
    const s = new RealSysfs(dir);
    expect(await errnoOf(s.read("/etc/passwd"))).toBe("EINVAL");
    expect(await errnoOf(s.write("/sys/../etc/x", "y"))).toBe("EINVAL");
    expect(await errnoOf(s.exists("/sys/./x"))).toBe("EINVAL");
  });
});

describe("ProcessModprobe", () => {
  it("passes argv to execFile unchanged (no shell) and returns the result", async () => {
    const calls: [string, readonly string[]][] = [];
    const p = new ProcessModprobe({ exec: (f, a) => (calls.push([f, a]), Promise.resolve({ code: 1, stdout: "", stderr: "modprobe: FATAL: Module x;rm not found\n" })) });
    const r = await p.modprobe(["x;rm"]);
    expect(calls).toEqual([["modprobe", ["x;rm"]]]);
    expect(r.code).toBe(1);
  });
  it("the default exec reports a missing program as code 127 instead of throwing", async () => {
    const p = new ProcessModprobe({ program: join(dir, "no-such-modprobe") });
    expect((await p.modprobe(["-n", "x"])).code).toBe(127);
  });
});

describe("atomic files and the config store", () => {
  it("atomicWriteFile replaces content and leaves no temp file", () => {
    const f = join(dir, "a/b/c.json");
    atomicWriteFile(f, "one");
    atomicWriteFile(f, "two");
    expect(readFileSync(f, "utf8")).toBe("two");
    expect(readdirSync(join(dir, "a/b"))).toEqual(["c.json"]);
  });
  it("ConfigStore round-trips, validates names and reports a bad file with its path", () => {
    const st = new ConfigStore(dir);
    st.put({ bus: "pci", device: "0000:01:00.0", flavour: "vfio", module: "vfio_pci", driver: "vfio-pci", hostDriver: "e1000e" });
    expect(st.all()).toEqual([{ bus: "pci", device: "0000:01:00.0", flavour: "vfio", module: "vfio_pci", driver: "vfio-pci", hostDriver: "e1000e" }]);
    expect(() => st.put({ bus: "pci", device: "../x", flavour: "vfio", module: "m", driver: "d", hostDriver: null })).toThrow(KbindError);
    writeFileSync(join(dir, "devices/pci-0000:02:00.0.json"), '{"bus":"pci"}');
    try {
      st.all();
      expect.unreachable();
    } catch (e) {
      expect((e as KbindError).code).toBe("BAD_CONFIG");
      expect((e as KbindError).location.file).toBe(join(dir, "devices/pci-0000:02:00.0.json"));
    }
  });
});

describe("parsing and validation", () => {
  it("names: reject traversal, slashes, option-looking names; report the offset", () => {
    expect(validateDeviceName("0000:01:00.0")).toBe("0000:01:00.0");
    for (const bad of ["..", ".", "a/b", "-x", "", "a b"]) expect(() => validateDeviceName(bad)).toThrow(KbindError);
    expect(validateModuleName("mlx5_vfio_pci")).toBe("mlx5_vfio_pci");
    for (const bad of ["-b", "a/b", "x".repeat(56), "a.b"]) expect(() => validateModuleName(bad)).toThrow(KbindError);
    expect(validateDriverName("vfio-pci")).toBe("vfio-pci");
    try {
      validateDriverName("vfio/../x");
    } catch (e) {
      expect((e as KbindError).location.offset).toBe(4);
    }
  });
  it("driver_override show(): (null) and an empty line mean unset (SPI prints \\n)", () => {
    expect(parseOverride("(null)\n")).toBe(null);
    expect(parseOverride("\n")).toBe(null);
    expect(parseOverride("vfio-pci\n")).toBe("vfio-pci");
  });
  it("resolveLink resolves sysfs-relative links", () => {
    expect(resolveLink("/sys/bus/pci/devices/0000:01:00.0", "../../../devices/pci0000:00/0000:01:00.0")).toBe("/sys/devices/pci0000:00/0000:01:00.0");
    expect(resolveLink("/sys/class/net/eth0", "../../devices/pci0000:00/0000:00:03.0/virtio0/net/eth0")).toBe("/sys/devices/pci0000:00/0000:00:03.0/virtio0/net/eth0");
  });
  it("mountinfo (proc(5)): MAJ:MIN, mount point (octal escapes) and source after the separator", () => {
    const m = parseMountinfo("36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n29 1 259:1 / / rw - ext4 /dev/nvme0n1p1 rw\n");
    expect(m).toEqual([
      { majMin: "98:0", mountPoint: "/mnt two", source: "/dev/root" },
      { majMin: "259:1", mountPoint: "/", source: "/dev/nvme0n1p1" },
    ]);
  });
});
