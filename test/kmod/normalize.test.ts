// kmod shared/util.c alias_normalize / underscores / modname_normalize, with kmod's own vectors
// (testsuite/test-util.c test_underscores) and the error contract (KbindError UNMATCHED_BRACKET + offset).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KbindError } from "../../src/model/errors.ts";
import { aliasNormalize, modnameNormalize, pathToModname, underscores, underscoresOrNull } from "../../src/kmod/normalize.ts";

function errOf(f: () => unknown): KbindError {
  try {
    f();
  } catch (e) {
    if (e instanceof KbindError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("underscores() (kmod shared/util.c), test-util.c vectors", () => {
  it.each([
    ["-aa[-bb-]cc-", "_aa[-bb-]cc_"],
    ["-aa-b[-]b-cc", "_aa_b[-]b_cc"],
    ["snd-hda-intel", "snd_hda_intel"],
    ["pci:v*d*sv*sd*bc0[1-3]sc*i*", "pci:v*d*sv*sd*bc0[1-3]sc*i*"],
    ["", ""],
  ])("underscores(%j) = %j", (i, o) => {
    expect(underscores(i)).toBe(o);
  });

  it("a ] outside brackets is -EINVAL with the offset of the ]", () => {
    const e = errOf(() => underscores("ab-]c"));
    expect(e.code).toBe("UNMATCHED_BRACKET");
    expect(e.location.offset).toBe(3);
    expect(e.location.errno).toBe("EINVAL");
  });

  it("a [ never closed is -EINVAL with the offset of the [", () => {
    const e = errOf(() => underscores("a-b[-c"));
    expect(e.location.offset).toBe(3);
    expect(underscoresOrNull("a-b[-c")).toBeNull();
    expect(underscoresOrNull("a-b")).toBe("a_b");
  });
});

describe("alias_normalize() (kmod shared/util.c)", () => {
  it.each([
    ["usb:v1234p*d*dc*", "usb:v1234p*d*dc*"],
    ["of:N*T*Cfsl,imx-uart", "of:N*T*Cfsl,imx_uart"],
    ["foo[a-b]-x", "foo[a-b]_x"],
    ["a[[-]-", "a[[-]_"],
    ["x.y-z", "x.y_z"],
  ])("aliasNormalize(%j) = %j", (i, o) => {
    expect(aliasNormalize(i)).toBe(o);
  });

  it("unmatched ] and unclosed [ throw UNMATCHED_BRACKET naming the offset", () => {
    expect(errOf(() => aliasNormalize("abc]")).location.offset).toBe(3);
    expect(errOf(() => aliasNormalize("a[b[c")).location.offset).toBe(1);
    expect(errOf(() => aliasNormalize("a[b]]")).location.offset).toBe(4);
  });

  it("copies at most PATH_MAX - 1 characters, like the fixed buffer", () => {
    const long = "a-".repeat(3000);
    const out = aliasNormalize(long);
    expect(out.length).toBe(4095);
    expect(out.startsWith("a_a_")).toBe(true);
  });

  it("property: no '-' survives outside brackets, length is kept, and idempotent", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "-", "_", "[", "]", "*", ":"), maxLength: 30 }), (s) => {
        let out: string;
        try {
          out = aliasNormalize(s);
        } catch (e) {
          expect(e).toBeInstanceOf(KbindError);
          return;
        }
        expect(out.length).toBe(s.length);
        expect(out.replace(/\[[^\]]*\]/g, "")).not.toContain("-");
        expect(aliasNormalize(out)).toBe(out);
        expect(underscores(s)).toBe(out);
      }),
    );
  });
});

describe("modname_normalize() / path_to_modname() (kmod shared/util.c)", () => {
  it.each([
    ["snd-hda-intel", "snd_hda_intel"],
    ["snd-hda-intel.ko", "snd_hda_intel"],
    ["e1000e.ko.xz", "e1000e"],
    ["a[-]b", "a[_]b"],
  ])("modnameNormalize(%j) = %j", (i, o) => {
    expect(modnameNormalize(i)).toBe(o);
  });

  it("path_to_modname takes the basename", () => {
    expect(pathToModname("kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.zst")).toBe("e1000e");
    expect(pathToModname("kernel/x/")).toBeNull();
  });
});
