/*
 * ctl: see ctl.h.
 */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

static int
ctl_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	return str_copy(sun->sun_path, path, sizeof(sun->sun_path));
}

int
ctl_listen(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (ctl_addr(path, &sun) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
ctl_read_request(int fd, char *out, size_t outsize)
{
	size_t got = 0;

	while (got + 1 < outsize) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, 2000) <= 0)
			return -1;
		n = read(fd, out + got, outsize - 1 - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		out[got] = '\0';
		if (memchr(out, '\n', got) != NULL) {
			*strchr(out, '\n') = '\0';
			return 0;
		}
	}
	return -1; /* longer than the limit */
}

int
ctl_call(const char *path, const char *cmd, struct buf *reply, int timeout_s)
{
	struct sockaddr_un sun;
	int fd, ret = -1;
	size_t len = strlen(cmd);

	if (ctl_addr(path, &sun) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto out;
	if (write(fd, cmd, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		goto out;
	for (;;) {
		char data[4096];
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, timeout_s * 1000) <= 0)
			goto out;
		n = read(fd, data, sizeof(data));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (buf_append(reply, data, (size_t)n) < 0)
			goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}
