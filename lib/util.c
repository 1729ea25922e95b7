/*
 * util: see util.h.  Nothing here allocates except file_read_all().
 */
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
str_copy(char *dst, const char *src, size_t dstsize)
{
	size_t n = strlen(src);

	if (dstsize == 0)
		return -1;
	if (n >= dstsize) {
		memcpy(dst, src, dstsize - 1);
		dst[dstsize - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out_r)
{
	char *end;
	long long v;

	/* strtoll() would skip leading blanks and take a '+': not a whole number here */
	if (s == NULL || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out_r = v;
	return 0;
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int
rand_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

uint64_t
rand_below(uint64_t n)
{
	uint64_t r, lim;

	if (n <= 1)
		return 0;
	lim = UINT64_MAX - UINT64_MAX % n;
	do {
		if (rand_bytes(&r, sizeof(r)) < 0)
			r = (uint64_t)mono_ms() * 6364136223846793005ULL;
	} while (r >= lim);
	return r % n;
}

void
fmt_time_ms(int64_t ms, char *out, size_t outsize)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	if (ms <= 0) {
		str_copy(out, "never", outsize);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsize, "%s.%03dZ", buf, (int)(ms % 1000));
}

int
parse_time_ms(const char *s, int64_t *ms_r)
{
	struct tm tm;
	int64_t v;
	int frac = 0, n = 0, i;
	const char *p;

	if (parse_i64(s, 0, INT64_MAX, &v) == 0) {
		*ms_r = v;
		return 0;
	}
	/* YYYY-MM-DDTHH:MM:SS[.mmm]Z, parsed by hand: no sscanf in this tree */
	if (strlen(s) < 20)
		return -1;
	memset(&tm, 0, sizeof(tm));
	{
		const int pos[] = {0, 5, 8, 11, 14, 17};
		const int len[] = {4, 2, 2, 2, 2, 2};
		const char sep[] = {'-', '-', 'T', ':', ':', 0};
		int vals[6];
		for (i = 0; i < 6; i++) {
			int k, x = 0;
			for (k = 0; k < len[i]; k++) {
				char c = s[pos[i] + k];
				if (c < '0' || c > '9')
					return -1;
				x = x * 10 + (c - '0');
			}
			vals[i] = x;
			if (sep[i] && s[pos[i] + len[i]] != sep[i])
				return -1;
		}
		tm.tm_year = vals[0] - 1900;
		tm.tm_mon = vals[1] - 1;
		tm.tm_mday = vals[2];
		tm.tm_hour = vals[3];
		tm.tm_min = vals[4];
		tm.tm_sec = vals[5];
		if (vals[1] < 1 || vals[1] > 12 || vals[2] < 1 || vals[2] > 31 || vals[3] > 23 ||
		    vals[4] > 59 || vals[5] > 60)
			return -1;
		/* timegm() would quietly turn February 30 into March 2 */
		{
			static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
			int y = vals[0], leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
			if (vals[2] > mdays[vals[1] - 1] || (vals[1] == 2 && !leap && vals[2] > 28))
				return -1;
		}
	}
	p = s + 19;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (n < 3)
				frac = frac * 10 + (*p - '0');
			n++, p++;
		}
		if (n == 0)
			return -1;
		while (n < 3)
			frac *= 10, n++;
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	*ms_r = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

int
path_join(char *out, size_t outsize, const char *dir, const char *name)
{
	int n = snprintf(out, outsize, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= outsize) ? -1 : 0;
}

int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd = -1, ret = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		goto out;
	if (fchmod(fd, mode) < 0)
		goto out;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int
file_read_all(const char *path, size_t maxlen, char **data_r, size_t *len_r)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto out;
	if ((size_t)st.st_size > maxlen) {
		errno = EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data_r = buf;
	buf = NULL;
	if (len_r != NULL)
		*len_r = got;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	char *p;

	if (str_copy(tmp, path, sizeof(tmp)) < 0)
		return -1;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
sockaddr_from_ip(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len_r)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len_r = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len_r = sizeof(*sin6);
		return 0;
	}
	return -1;
}
