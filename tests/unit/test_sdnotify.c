/* test_sdnotify: the notify datagram reaches a socket the test creates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

static int
bind_dgram(struct sockaddr_un *sun, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sun, len), 0);
	return fd;
}

static void
expect(int fd, const char *what)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, what);
}

static void
test_path_socket(void **state)
{
	struct sockaddr_un sun;
	char dir[] = "/tmp/test_sdnotify.XXXXXX";
	int fd;

	assert_non_null(mkdtemp(dir));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/notify", dir);
	fd = bind_dgram(&sun, sizeof(sun));
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	assert_int_equal(sdnotify_send("READY=1"), 1);
	expect(fd, "READY=1");
	assert_int_equal(sdnotify_send("WATCHDOG=1"), 1);
	expect(fd, "WATCHDOG=1");
	close(fd);
	unlink(sun.sun_path);
	rmdir(dir);
	/* nobody listens any more: an error, not a crash */
	assert_int_equal(sdnotify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_abstract_socket(void **state)
{
	struct sockaddr_un sun;
	char name[64];
	socklen_t len;
	int fd;

	snprintf(name, sizeof(name), "vigil-test-notify-%d", (int)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	fd = bind_dgram(&sun, len);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "@%s", name);
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	assert_int_equal(sdnotify_send("READY=1"), 1);
	expect(fd, "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_no_socket(void **state)
{
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sdnotify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_watchdog_usec(void **state)
{
	char pid[24];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sdnotify_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(sdnotify_watchdog_ms(), 30000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_ms(), 30000);
	/* meant for another process (our parent, say) */
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(sdnotify_watchdog_ms(), 0);
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "junk", 1);
	assert_int_equal(sdnotify_watchdog_ms(), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_socket),
	    cmocka_unit_test(test_abstract_socket),
	    cmocka_unit_test(test_no_socket),
	    cmocka_unit_test(test_watchdog_usec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
