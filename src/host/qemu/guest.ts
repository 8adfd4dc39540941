// A booted QEMU guest and the framed command channel to scripts/qemu/kbind-guest.c on its second
// serial port (QEMU's stdio). Requests are "<id> <op> <base64 args>" lines; answers are
// "@@<id> <answer>@@" lines, so kernel or shell noise on the line can never be mistaken for one.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { KbindError } from "../../model/errors.ts";

export type GuestOp = "R" | "W" | "L" | "D" | "E" | "U" | "X" | "S";

interface Pending {
  id: number;
  resolve: (answer: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const b64 = (s: string): string => (s.length === 0 ? "-" : Buffer.from(s, "latin1").toString("base64"));
export const unb64 = (s: string): string => (s === "-" ? "" : Buffer.from(s, "base64").toString("latin1"));

export class QemuGuest {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buf = "";
  private nextId = 1;
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private ready: Promise<void>;
  private exited: string | null = null;
  readonly consoleLog: string;
  readonly bootStarted = Date.now();
  bootMs = 0;

  private constructor(qemu: string, args: string[], consoleLog: string, bootTimeoutMs: number) {
    this.consoleLog = consoleLog;
    this.proc = spawn(qemu, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    this.proc.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new KbindError("QEMU_BOOT_TIMEOUT", `no @@READY@@ from the guest within ${bootTimeoutMs / 1000} s; kernel log tail:\n${this.consoleTail()}`, { file: consoleLog }));
      }, bootTimeoutMs);
      this.proc.on("exit", (code, sig) => {
        this.exited = `qemu exited (code ${code ?? "-"}, signal ${sig ?? "-"}): ${stderr.trim()}`;
        clearTimeout(timer);
        reject(new KbindError("QEMU_EXITED", `${this.exited}\nkernel log tail:\n${this.consoleTail()}`, { file: consoleLog }));
        if (this.pending) this.pending.reject(new KbindError("QEMU_EXITED", this.exited));
      });
      this.proc.on("error", (e) => {
        clearTimeout(timer);
        reject(new KbindError("QEMU_SPAWN", `cannot run ${qemu}: ${e.message}`, { file: qemu }));
      });
      this.proc.stdout.on("data", (d: Buffer) => {
        this.buf += d.toString("latin1");
        if (this.bootMs === 0 && this.buf.includes("@@READY@@")) {
          this.bootMs = Date.now() - this.bootStarted;
          clearTimeout(timer);
          this.buf = this.buf.slice(this.buf.indexOf("@@READY@@") + 9);
          resolve();
        }
        this.drain();
      });
    });
  }

  static async boot(args: string[], consoleLog: string, opts: { qemu?: string; bootTimeoutMs?: number } = {}): Promise<QemuGuest> {
    const g = new QemuGuest(opts.qemu ?? "qemu-system-x86_64", args, consoleLog, opts.bootTimeoutMs ?? 180_000);
    try {
      await g.ready;
    } catch (e) {
      g.kill();
      throw e;
    }
    return g;
  }

  consoleTail(lines = 25): string {
    try {
      return readFileSync(this.consoleLog, "latin1").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no kernel log)";
    }
  }

  private drain(): void {
    for (;;) {
      const m = /@@(\d+) ([^@\n]*)@@/.exec(this.buf);
      if (!m) return;
      this.buf = this.buf.slice(m.index + m[0].length);
      const p = this.pending;
      if (p && Number(m[1]) === p.id) {
        this.pending = null;
        clearTimeout(p.timer);
        p.resolve(m[2]!);
      }
    }
  }

  /** One request; answers are serialized. Resolves with the answer text after the id. */
  request(op: GuestOp, args: readonly string[] = [], timeoutMs = 90_000): Promise<string> {
    const run = (): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        if (this.exited !== null) {
          reject(new KbindError("QEMU_EXITED", this.exited));
          return;
        }
        const id = this.nextId++;
        const timer = setTimeout(() => {
          this.pending = null;
          reject(new KbindError("QEMU_TIMEOUT", `guest did not answer ${op} ${args.join(" ")} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        this.pending = { id, resolve, reject, timer };
        this.proc.stdin.write(`${id} ${op}${args.map((a) => " " + b64(a)).join("")}\n`);
      });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  kill(): void {
    if (this.exited === null && this.proc.pid !== undefined) this.proc.kill("SIGKILL");
  }
}
