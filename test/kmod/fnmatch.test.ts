// Table-driven tests of src/kmod/fnmatch.ts, each row following glibc posix/fnmatch_loop.c (FCT) with
// flags 0 in the C locale; test/kmod/fnmatch-glibc.test.ts checks the same rows against glibc itself.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fnmatch, hasWildcard } from "../../src/kmod/fnmatch.ts";
import { FNMATCH_TABLE } from "../helpers/glibc-fnmatch-table.ts";


describe("fnmatch(pattern, s, 0) per glibc posix/fnmatch_loop.c FCT", () => {
  it.each(FNMATCH_TABLE)("fnmatch(%j, %j) = %s: %s", (p, s, want) => {
    expect(fnmatch(p, s)).toBe(want);
  });

  it("stops at a NUL like the C function (C strings)", () => {
    expect(fnmatch("ab\0zz", "ab")).toBe(true);
    expect(fnmatch("ab", "ab\0zz")).toBe(true);
  });

  it("a pattern without wildcards matches exactly itself (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", "-", "_", ":", "."), maxLength: 12 }), fc.string({ maxLength: 12 }), (lit, other) => {
        expect(fnmatch(lit, lit)).toBe(true);
        expect(fnmatch(lit, other)).toBe(lit === other.split("\0")[0]);
      }),
    );
  });

  it("'*' + literal suffix matches exactly the strings ending with it (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", "x"), maxLength: 5 }), fc.string({ unit: fc.constantFrom("a", "b", "x"), maxLength: 10 }), (suf, s) => {
        expect(fnmatch("*" + suf, s)).toBe(s.endsWith(suf));
        expect(fnmatch(suf + "*", s)).toBe(s.startsWith(suf));
      }),
    );
  });

  it("does not blow up on many stars against a long non-matching string (one level per star)", () => {
    const p = "*a".repeat(30) + "b";
    expect(fnmatch(p, "a".repeat(2000))).toBe(false);
  });

  it("hasWildcard: kmod's index treats only * ? [ as wildcard starts", () => {
    expect(hasWildcard("pci:v*")).toBe(true);
    expect(hasWildcard("of:N?T")).toBe(true);
    expect(hasWildcard("acpi:[AB]")).toBe(true);
    expect(hasWildcard("platform:serial8250")).toBe(false);
  });
});
