// Turns any error into one clear line: "kbind: <location>: <message> [<code>]".
import { formatLocation, isKbindError } from "../model/errors.ts";

export function renderError(e: unknown): string {
  if (isKbindError(e)) {
    const loc = formatLocation(e.location);
    return `kbind: ${loc ? `${loc}: ` : ""}${e.message} [${e.code}]\n`;
  }
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return `kbind: ${e.message}${code ? ` [${code}]` : ""}\n`;
  }
  return `kbind: ${String(e)}\n`;
}
