/* Differential oracle for src/kmod/fnmatch.ts: glibc's own fnmatch(pattern, string, 0) in the C locale
 * (no setlocale() call, so LC_CTYPE/LC_COLLATE stay "C", as in kmod's tools). Reads records from stdin:
 * u32 LE pattern length, pattern bytes, u32 LE string length, string bytes; writes one byte per record:
 * '0' (match) or '1' (no match). Run with POSIXLY_CORRECT unset. */
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static char *read_str(void) {
	unsigned char len[4];
	if (fread(len, 1, 4, stdin) != 4)
		return NULL;
	uint32_t n = len[0] | (len[1] << 8) | (len[2] << 16) | ((uint32_t)len[3] << 24);
	char *s = malloc(n + 1);
	if (!s || fread(s, 1, n, stdin) != n)
		exit(2);
	s[n] = '\0';
	return s;
}

int main(void) {
	for (;;) {
		char *p = read_str();
		if (!p)
			break;
		char *s = read_str();
		if (!s)
			return 2;
		putchar(fnmatch(p, s, 0) == 0 ? '0' : '1');
		free(p);
		free(s);
	}
	return fflush(stdout) == 0 ? 0 : 3;
}
