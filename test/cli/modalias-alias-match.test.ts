// The CLI as a user runs it (runCli in-process): kbind modalias / alias / match. Expected strings come
// from the kernel's formats (pci-sysfs.c, of_modalias, file2alias.c) and the real modules.alias.
import { describe, expect, it } from "vitest";
import { bufferIo } from "../../src/cli/io.ts";
import { runCli } from "../../src/cli/main.ts";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe("kbind modalias", () => {
  it("pci prints the modalias line", async () => {
    const r = await run("modalias", "pci", "--vendor", "0x8086", "--device", "0x100e", "--subvendor", "0x8086", "--subdevice", "0x001e", "--class", "0x020000");
    expect(r).toEqual({ code: 0, out: "pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00\n", err: "" });
  });
  it("pci --uevent prints pci_uevent's variables in order", async () => {
    const r = await run("modalias", "pci", "--vendor", "8086", "--device", "100e", "--class", "020000", "--slot", "0000:00:03.0", "--uevent");
    expect(r.out).toBe(
      "PCI_CLASS=20000\nPCI_ID=8086:100E\nPCI_SUBSYS_ID=0000:0000\nPCI_SLOT_NAME=0000:00:03.0\nMODALIAS=pci:v00008086d0000100Esv00000000sd00000000bc02sc00i00\n",
    );
  });
  it("of with two compatibles and no type prints T(null)", async () => {
    const r = await run("modalias", "of", "--name", "serial", "--compatible", "allwinner,sun50i-a64-uart", "--compatible", "snps,dw-apb-uart");
    expect(r.out).toBe("of:NserialT(null)Callwinner,sun50i-a64-uartCsnps,dw-apb-uart\n");
  });
  it("acpi with PRP0001 only prints the OF form; --json keeps both lists", async () => {
    const r = await run("modalias", "acpi", "--id", "PRP0001", "--compatible", "acme,foo", "--acpi-name", "ABCD", "--json");
    expect(JSON.parse(r.out)).toEqual({ modalias: ["of:NabcdTCacme,foo"], uevent: [{ key: "MODALIAS", value: "of:NabcdTCacme,foo" }] });
  });
  it("virtio and platform", async () => {
    expect((await run("modalias", "virtio", "--device", "2", "--vendor", "1af4")).out).toBe("virtio:d00000002v00001AF4\n");
    expect((await run("modalias", "platform", "--name", "serial8250", "--uevent")).out).toBe("MODALIAS=platform:serial8250\n");
  });
  it("bad hex is one clear line naming the option and offset, exit 1", async () => {
    const r = await run("modalias", "pci", "--vendor", "0x8g86", "--device", "1", "--class", "0");
    expect(r.code).toBe(1);
    expect(r.err).toBe('kbind: offset 3: --vendor: "0x8g86" is not hex (character "g") [BAD_ARGUMENT]\n');
    const big = await run("modalias", "pci", "--vendor", "18086", "--device", "1", "--class", "0");
    expect(big.err).toContain("larger than 0xffff");
  });
});

describe("kbind alias", () => {
  it("pci entries as file2alias writes them (real nvme and vfio lines)", async () => {
    expect((await run("alias", "pci", "--class", "010802", "--class-mask", "ffffff")).out).toBe("pci:v*d*sv*sd*bc01sc08i02*\n");
    expect((await run("alias", "pci", "--vfio")).out).toBe("vfio_pci:v*d*sv*sd*bc*sc*i*\n");
  });
  it("an inexpressible class mask: no alias, a reason, exit 1", async () => {
    const r = await run("alias", "pci", "--class", "0c0330", "--class-mask", "fffff0");
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("Can't handle masks");
  });
  it("of gives both aliases; acpi class form; parse goes back", async () => {
    expect((await run("alias", "of", "--type", "ipmi", "--compatible", "ipmi-bt")).out).toBe("of:N*Tipmi*Cipmi-bt\nof:N*Tipmi*Cipmi-btC*\n");
    expect((await run("alias", "acpi", "--class", "010601", "--class-mask", "ffffff")).out).toBe("acpi*:010601:*\n");
    const p = await run("alias", "parse", "vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*", "--json");
    expect(JSON.parse(p.out)).toMatchObject({ bus: "pci", pci: { prefix: "vfio_pci", id: { vendor: 0x15b3, device: 0x1021, overrideOnly: 1 } } });
  });
  it("usb: a bcdDevice range gives several aliases (uvcvideo's real first line)", async () => {
    const r = await run("alias", "usb", "--vendor", "19ab", "--product", "1000", "--bcd-hi", "0126", "--int-class", "0e", "--int-subclass", "1", "--int-protocol", "0");
    expect(r.out).toBe("usb:v19ABp1000d012[0-6]dc*dsc*dp*ic0Eisc01ip00in*\nusb:v19ABp1000d01[0-1]*dc*dsc*dp*ic0Eisc01ip00in*\nusb:v19ABp1000d00*dc*dsc*dp*ic0Eisc01ip00in*\n");
  });
  it("parse of a hand-written alias is a typed error with the offset", async () => {
    const r = await run("alias", "parse", "pci:hisi_sas_v3_hw");
    expect(r.code).toBe(1);
    expect(r.err).toBe('kbind: offset 4: not a file2alias PCI alias: expected "v" [BAD_PCI_ALIAS]\n');
  });
});

describe("kbind match", () => {
  const e1000 = "pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00";
  it("names the failing field; exit 1 when the kernel would not match", async () => {
    const r = await run("match", e1000, "pci:v00008086d0000100Fsv*sd*bc*sc*i*");
    expect(r.code).toBe(1);
    expect(r.out).toContain("device     0x100f              0x100e    MISMATCH");
    expect(r.out).toContain("pci_match_one_device (drivers/pci/pci.h): no match (device differs)");
    expect(r.out).toContain('fnmatch("pci:v00008086d0000100Fsv*sd*bc*sc*i*", modalias) = no match');
  });
  it("a class-mask entry given by flags: the kernel matches, kmod has no alias", async () => {
    const r = await run("match", "pci:v00008086d00001234sv00000000sd00000000bc0Csc03i30", "--class", "0c0330", "--class-mask", "fffff0", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { entries: { aliases: unknown[]; kernel: { match: boolean } }[] };
    expect(j.entries[0]!.kernel.match).toBe(true);
    expect(j.entries[0]!.aliases).toEqual([]);
  });
  it("OF: each entry's score, and __of_match_node's winner", async () => {
    const r = await run("match", "of:NserialT(null)Callwinner,sun50i-a64-uartCsnps,dw-apb-uart", "of:N*T*Csnps,dw-apb-uart", "of:N*T*Callwinner,sun50i-a64-uart", "--json");
    const j = JSON.parse(r.out) as { entries: { kernel: { score: number }; aliases: { fnmatch: boolean }[] }[]; ofMatchNode: number };
    expect(j.entries.map((e) => e.kernel.score)).toEqual([1073741819, 1073741823]);
    expect(j.ofMatchNode).toBe(1);
    expect(j.entries.map((e) => e.aliases.map((a) => a.fnmatch))).toEqual([[true, false], [false, true]]);
  });
  it("OF: case differs → the kernel matches, kmod does not", async () => {
    const r = await run("match", "of:NserialT(null)CSNPS,DW-APB-UART", "of:N*T*Csnps,dw-apb-uart");
    expect(r.code).toBe(0);
    expect(r.out).toContain("(equal only ignoring case)");
    expect(r.out).toContain('fnmatch("of:N*T*Csnps,dw-apb-uart", modalias) = no match');
  });
  it("a malformed modalias is a typed error with its offset; a bus mismatch is refused", async () => {
    const r = await run("match", "pci:v0000808", "pci:v*d*sv*sd*bc*sc*i*");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kbind: offset 12: .*\[BAD_MODALIAS\]\n$/);
    expect((await run("match", e1000, "of:N*T*Cfoo")).err).toContain("is a of alias but the device is on pci");
  });
  it("virtio, acpi and platform entries", async () => {
    expect((await run("match", "virtio:d00000002v00001AF4", "virtio:d00000002v*")).code).toBe(0);
    expect((await run("match", "acpi:INT33C4:PNP0501:", "acpi*:PNP0501:*")).code).toBe(0);
    expect((await run("match", "platform:serial8250", "platform:serial8250")).code).toBe(0);
    expect((await run("match", "platform:serial8250", "platform:dw-apb-uart")).code).toBe(1);
  });
});
