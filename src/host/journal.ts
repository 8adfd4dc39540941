// The switch journal: written atomically BEFORE every step of a flavour switch, removed when the
// switch (or its rollback) is verified. A run that finds a journal left by a crashed or killed run
// completes it (every member already verified in its target state) or rolls it back to the recorded
// original state (src/host/switch.ts recoverInterrupted).
import { z } from "zod";
import { KbindError } from "../model/errors.ts";
import { atomicRemoveFile, atomicWriteFile, readTextIfExists } from "./atomic-file.ts";

const bindState = z.object({ driver: z.string().nullable(), override: z.string().nullable() });

export const journalMemberSchema = z.object({
  bus: z.string(),
  device: z.string(),
  original: bindState,
  /** The override the switch writes (null: cleared). */
  targetOverride: z.string().nullable(),
  /** The driver the switch must end on; null = any driver other than `leaveDriver`. */
  targetDriver: z.string().nullable(),
  leaveDriver: z.string().nullable(),
});

export const journalSchema = z.object({
  version: z.literal(1),
  op: z.enum(["set", "unset"]),
  flavour: z.string(),
  phase: z.enum(["forward", "rollback"]),
  step: z.string(),
  members: z.array(journalMemberSchema),
});

export type JournalMember = z.infer<typeof journalMemberSchema>;
export type Journal = z.infer<typeof journalSchema>;

export interface JournalStore {
  read(): Journal | null;
  write(j: Journal): void;
  remove(): void;
  readonly where: string;
}

export class FileJournal implements JournalStore {
  readonly where: string;
  constructor(path: string) {
    this.where = path;
  }
  read(): Journal | null {
    const text = readTextIfExists(this.where);
    if (text === null) return null;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new KbindError("BAD_JOURNAL", `journal is not JSON: ${(e as Error).message}`, { file: this.where });
    }
    const r = journalSchema.safeParse(data);
    if (!r.success) throw new KbindError("BAD_JOURNAL", `journal does not match its schema: ${r.error.issues[0]?.message ?? "?"}`, { file: this.where });
    return r.data;
  }
  write(j: Journal): void {
    atomicWriteFile(this.where, JSON.stringify(j, null, 2) + "\n", 0o600);
  }
  remove(): void {
    atomicRemoveFile(this.where);
  }
}

/** A journal kept in memory: for a switch driven from outside the target machine (a QEMU guest's
 *  sysfs over its console), where the driving process itself is the only thing that can crash. */
export class MemoryJournal implements JournalStore {
  readonly where = "(memory)";
  private j: Journal | null = null;
  read(): Journal | null {
    return this.j;
  }
  write(j: Journal): void {
    this.j = structuredClone(j);
  }
  remove(): void {
    this.j = null;
  }
}
