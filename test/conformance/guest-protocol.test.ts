// The serial command channel without QEMU: scripts/qemu/kbind-guest.c compiled here and served on
// stdin/stdout ("serve -"), driven by the same QemuGuest/GuestControl/SerialSysfs classes the
// conformance run uses. Only files in a temp dir are touched; the U (delete_module) and S (settle)
// requests are not exercised on the host.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QemuGuest } from "../../src/host/qemu/guest.ts";
import { GuestControl, SerialSysfs } from "../../src/host/qemu/sysfs-serial.ts";
import { SysfsError } from "../../src/ports.ts";

const repo = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "kbind-guest-proto-"));
let guest: QemuGuest;
let control: GuestControl;

beforeAll(async () => {
  const helper = join(dir, "kbind-guest");
  execFileSync("gcc", ["-O1", "-o", helper, join(repo, "scripts/qemu/kbind-guest.c")]);
  guest = await QemuGuest.boot(["serve", "-"], join(dir, "console.log"), { qemu: helper, bootTimeoutMs: 10_000 });
  control = new GuestControl(guest);
});
afterAll(() => {
  guest.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("kbind-guest serial protocol", () => {
  it("R returns the exact bytes (NUL, newline, high bytes) of a file", async () => {
    writeFileSync(join(dir, "a"), Buffer.from([0x61, 0, 0x0a, 0xff, 0x40, 0x40]));
    expect(await control.readFile(join(dir, "a"))).toBe("a\0\n\xff@@");
  });

  it("R of an empty file and of a missing file", async () => {
    writeFileSync(join(dir, "empty"), "");
    expect(await control.readFile(join(dir, "empty"))).toBe("");
    await expect(guest.request("R", [join(dir, "missing")])).resolves.toBe("ENOENT");
  });

  it("W is one write(2): the count, the bytes on disk, and the errno name on failure", async () => {
    writeFileSync(join(dir, "w"), "");
    await expect(guest.request("W", [join(dir, "w"), "x\0y\n"])).resolves.toBe("OK 4");
    expect(readFileSync(join(dir, "w"), "latin1")).toBe("x\0y\n");
    await expect(guest.request("W", [dir, "x"])).resolves.toBe("EISDIR");
    await expect(guest.request("W", [join(dir, "nope", "x"), "x"])).resolves.toBe("ENOENT");
  });

  it("L reads a link, EINVAL for a regular file; D lists sorted; E uses lstat", async () => {
    mkdirSync(join(dir, "d"));
    for (const n of ["b", "a", "c"]) writeFileSync(join(dir, "d", n), "");
    symlinkSync("../../x/target", join(dir, "d", "lnk"));
    await expect(guest.request("L", [join(dir, "d", "lnk")])).resolves.toBe(`OK ${Buffer.from("../../x/target").toString("base64")}`);
    await expect(guest.request("L", [join(dir, "d", "a")])).resolves.toBe("EINVAL");
    await expect(guest.request("D", [join(dir, "d")])).resolves.toBe(`OK ${Buffer.from("a\nb\nc\nlnk\n").toString("base64")}`);
    await expect(guest.request("E", [join(dir, "d", "lnk")])).resolves.toBe("OK 1");
    await expect(guest.request("E", [join(dir, "d", "zzz")])).resolves.toBe("OK 0");
  });

  it("X runs a shell command: exit status and combined output; requests stay in order", async () => {
    const [a, b] = await Promise.all([control.sh("echo one; echo two >&2; exit 3"), control.sh("printf '@@1 OK 0 -@@'")]);
    expect(a).toEqual({ code: 3, stdout: "one\ntwo\n", stderr: "" });
    expect(b.stdout).toBe("@@1 OK 0 -@@");
  });

  it("SerialSysfs refuses paths outside /sys before anything is sent", async () => {
    const s = new SerialSysfs(guest);
    await expect(s.read(join(dir, "a"))).rejects.toBeInstanceOf(SysfsError);
    await expect(s.write("/etc/passwd", "x")).rejects.toMatchObject({ errno: "EINVAL" });
  });
});
