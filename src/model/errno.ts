// Linux errno names and values (include/uapi/asm-generic/errno-base.h, errno.h; include/linux/errno.h
// for the kernel-internal EPROBE_DEFER). Values are those of x86_64 and arm64 (asm-generic).

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  EROFS: 30,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENODATA: 61,
  ETIMEDOUT: 110,
  EOPNOTSUPP: 95,
  EPROBE_DEFER: 517,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const byValue = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([k, v]) => [v, k]),
);

export function errnoValue(name: ErrnoName): number {
  return ERRNO[name];
}

/** Name of an errno value; accepts negative kernel-style values. */
export function errnoName(value: number): ErrnoName | undefined {
  return byValue.get(Math.abs(value));
}

export function isErrnoName(s: string): s is ErrnoName {
  return Object.prototype.hasOwnProperty.call(ERRNO, s);
}
