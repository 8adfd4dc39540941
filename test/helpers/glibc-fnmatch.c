/* Differential oracle for src/kmod/fnmatch.ts: glibc's own fnmatch(pattern, string, 0) in the C locale
 * (no setlocale() call, so LC_CTYPE/LC_COLLATE stay "C", as in kmod's tools). Reads records from stdin:
 * u32 LE pattern length, pattern bytes, u32 LE string length, string bytes; writes one byte per record:
 * '0' (match) or '1' (no match). Run with POSIXLY_CORRECT unset.
 * With "--bench N" (bench/fnmatch.bench.ts): read all records, call fnmatch on them N times, print the
 * number of matches of one pass and the elapsed nanoseconds of the N passes ("<matches> <ns>\n"). */
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int bench(long passes) {
	size_t cap = 1024, n = 0;
	char **pat = malloc(cap * sizeof(char *)), **str = malloc(cap * sizeof(char *));
	for (;;) {
		char *p = read_str();
		if (!p)
			break;
		char *s = read_str();
		if (!s)
			return 2;
		if (n == cap) {
			cap *= 2;
			pat = realloc(pat, cap * sizeof(char *));
			str = realloc(str, cap * sizeof(char *));
		}
		pat[n] = p;
		str[n++] = s;
	}
	struct timespec a, b;
	long matches = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long k = 0; k < passes; k++)
		for (size_t i = 0; i < n; i++)
			matches += fnmatch(pat[i], str[i], 0) == 0;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%ld %lld\n", matches / passes, (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 3 && strcmp(argv[1], "--bench") == 0)
		return bench(atol(argv[2]));
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
