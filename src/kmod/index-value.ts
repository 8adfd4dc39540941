// A value of a kmod `.bin` index entry and libkmod's ordered insertion (libkmod-index.c add_value).

export interface IndexValue {
  priority: number;
  value: string;
}

/**
 * add_value(): keep `out` sorted by priority ascending; an equal priority is inserted BEFORE the
 * existing equal ones (`while (v->priority < priority)`), so ties come out in reverse discovery order.
 */
export function addValue(out: IndexValue[], value: string, priority: number): void {
  let i = 0;
  while (i < out.length && out[i]!.priority < priority) i++;
  out.splice(i, 0, { priority, value });
}
