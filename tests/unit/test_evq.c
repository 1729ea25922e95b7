/*
 * test_evq: the agent's durable event queue: append, acknowledge, reopen
 * after a crash, torn tail, bad checksum in the middle, full queue drops
 * the oldest with an exact count, sequences that never go back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "evq.h"
#include "util.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	str_copy(f->dir, "/tmp/vigil-test-evq-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, EVQ_FILE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char p[400];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		unlink(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
open_q(struct fixture *f, struct evq *q, int64_t max_bytes, int64_t max_events)
{
	const char *err = NULL;

	assert_int_equal(evq_open(q, f->dir, max_bytes, max_events, &err), 0);
}

static void
push_n(struct evq *q, int n, int first)
{
	int i;
	char d[64];

	for (i = 0; i < n; i++) {
		snprintf(d, sizeof(d), "event %d", first + i);
		assert_int_equal(evq_push(q, EVQ_EV_TEST, 1000 + first + i, d), 0);
	}
}

static int
count_aside(struct fixture *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, EVQ_FILE ".damaged-", strlen(EVQ_FILE ".damaged-")) == 0;
	closedir(d);
	return n;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void
test_append_ack_reopen(void **state)
{
	struct fixture *f = *state;
	struct evq q;
	uint64_t first;

	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_int_equal(q.damage[0], '\0');
	first = q.next_seq;
	/* a new queue starts above the wall clock in ms x 1000 (a reinstall never reuses) */
	assert_true(first >= (uint64_t)now_ms() * 1000 - 10000000);
	push_n(&q, 10, 1);
	assert_int_equal(evq_depth(&q), 10);
	assert_int_equal(evq_peek(&q, 0)->seq, first);
	assert_int_equal(evq_peek(&q, 9)->seq, first + 9);
	assert_string_equal(evq_peek(&q, 3)->desc, "event 4");
	assert_null(evq_peek(&q, 10));
	assert_int_equal(evq_ack(&q, first + 3), 0);
	assert_int_equal(evq_depth(&q), 6);
	assert_int_equal(evq_peek(&q, 0)->seq, first + 4);
	/* an old acknowledgement changes nothing */
	assert_int_equal(evq_ack(&q, first), 0);
	assert_int_equal(evq_depth(&q), 6);
	/* a "crash": no clean close of the file, just reopen what is on disk */
	evq_close(&q);
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_int_equal(q.damage[0], '\0');
	assert_int_equal(evq_depth(&q), 6);
	assert_int_equal(evq_peek(&q, 0)->seq, first + 4);
	assert_int_equal(evq_peek(&q, 0)->time_ms, 1005);
	assert_int_equal(evq_peek(&q, 0)->event_id, EVQ_EV_TEST);
	/* sequences continue where they were, never back */
	assert_int_equal(q.next_seq, first + 10);
	push_n(&q, 1, 11);
	assert_int_equal(evq_peek(&q, 6)->seq, first + 10);
	assert_int_equal(evq_ack(&q, first + 10), 0);
	assert_int_equal(evq_depth(&q), 0);
	evq_close(&q);
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_int_equal(evq_depth(&q), 0);
	assert_int_equal(q.next_seq, first + 11);
	evq_close(&q);
	assert_int_equal(count_aside(f), 0);
}

static void
test_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct evq q;
	off_t size;

	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	push_n(&q, 5, 1);
	evq_close(&q);
	size = file_size(f->path);
	/* the last record half written, as a power cut leaves it */
	assert_int_equal(truncate(f->path, size - 7), 0);
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_non_null(strstr(q.damage, "incomplete"));
	assert_non_null(strstr(q.damage, "4 queued events kept"));
	assert_int_equal(evq_depth(&q), 4);
	assert_string_equal(evq_peek(&q, 3)->desc, "event 4");
	assert_int_equal(count_aside(f), 1);
	/* the torn event's sequence is never given again */
	assert_true(q.next_seq > evq_peek(&q, 3)->seq + 1);
	evq_close(&q);
	/* the new file is clean */
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_int_equal(q.damage[0], '\0');
	assert_int_equal(evq_depth(&q), 4);
	evq_close(&q);
}

static void
test_bad_checksum_in_the_middle(void **state)
{
	struct fixture *f = *state;
	struct evq q;
	uint64_t last;
	off_t rec;
	int fd;

	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	push_n(&q, 10, 1);
	last = evq_peek(&q, 9)->seq;
	rec = (off_t)evq_peek(&q, 0)->size;
	evq_close(&q);
	/* one byte of the 6th event's description flipped: the state record + 5 events before it */
	fd = open(f->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 40 + 5 * rec + EVQ_HDR_LEN + 21), 1);
	close(fd);
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_non_null(strstr(q.damage, "checksum mismatch"));
	assert_int_equal(evq_depth(&q), 5);
	assert_string_equal(evq_peek(&q, 4)->desc, "event 5");
	assert_int_equal(count_aside(f), 1);
	/* events 6 to 10 may have reached the manager: their sequences stay used */
	assert_true(q.next_seq > last);
	evq_close(&q);
}

static void
test_garbage_file(void **state)
{
	struct fixture *f = *state;
	struct evq q;

	assert_int_equal(file_write_atomic(f->path, "garbage, not a queue\n", 21, 0600), 0);
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_non_null(strstr(q.damage, "bad magic"));
	assert_int_equal(evq_depth(&q), 0);
	assert_int_equal(count_aside(f), 1);
	push_n(&q, 2, 1);
	evq_close(&q);
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_int_equal(evq_depth(&q), 2);
	evq_close(&q);
	/* damaged again within the same second: the first file set aside stays */
	assert_int_equal(file_write_atomic(f->path, "more garbage\n", 13, 0600), 0);
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_non_null(strstr(q.damage, "bad magic"));
	evq_close(&q);
	assert_int_equal(count_aside(f), 2);
}

/* A state directory that cannot be written: the queue works in memory. */
static void
test_unwritable_directory(void **state)
{
	struct fixture *f = *state;
	struct evq q;
	const char *err = NULL;
	char file[128], sub[160];

	/* a "directory" below a plain file: every write fails, even for root */
	snprintf(file, sizeof(file), "%s/plain", f->dir);
	assert_int_equal(file_write_atomic(file, "x", 1, 0600), 0);
	snprintf(sub, sizeof(sub), "%s/dir", file);
	assert_int_equal(evq_open(&q, sub, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS, &err),
	                 -1);
	assert_non_null(err);
	push_n(&q, 3, 1);
	assert_int_equal(evq_depth(&q), 3);
	assert_int_equal(evq_ack(&q, evq_peek(&q, 0)->seq), -1); /* not written, but done */
	assert_int_equal(evq_depth(&q), 2);
	evq_close(&q);
}

static void
test_full_drops_oldest_exactly(void **state)
{
	struct fixture *f = *state;
	struct evq q;
	uint64_t first;

	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, 10);
	first = q.next_seq;
	push_n(&q, 25, 1);
	assert_int_equal(evq_depth(&q), 10);
	assert_int_equal(q.dropped, 15);
	assert_string_equal(evq_peek(&q, 0)->desc, "event 16");
	assert_int_equal(evq_peek(&q, 0)->seq, first + 15);
	evq_close(&q);
	/* the count and the queue survive a restart */
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, 10);
	assert_int_equal(q.dropped, 15);
	assert_int_equal(evq_depth(&q), 10);
	evq_close(&q);
	/* a lower limit at start drops (and counts) the oldest too */
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, 10);
	assert_int_equal(q.dropped, 15);
	evq_close(&q);
	/* by bytes: each record is 16 + 20 + strlen("event NN") bytes */
	open_q(f, &q, EVQ_MIN_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_int_equal(q.dropped, 15);
	{
		char big[EVQ_MAX_DESC + 1];
		int i;
		memset(big, 'b', EVQ_MAX_DESC);
		big[EVQ_MAX_DESC] = '\0';
		for (i = 0; i < 40; i++)
			assert_int_equal(evq_push(&q, EVQ_EV_TEST, 1, big), 0);
	}
	assert_true(q.bytes <= EVQ_MIN_MAX_BYTES);
	assert_int_equal(q.dropped,
	                 15 + 10 + (40 - EVQ_MIN_MAX_BYTES / (EVQ_HDR_LEN + EVQ_MAX_BODY)));
	evq_close(&q);
}

static void
test_descriptions_are_cleaned(void **state)
{
	struct fixture *f = *state;
	struct evq q;
	char long_one[3000];

	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_int_equal(
	    evq_push(&q, EVQ_EV_TEST, 1, "tab\tnew\nline \x1b[31m \xff \xe2\x80\xae ok \xc3\xa9"),
	    0);
	assert_string_equal(evq_peek(&q, 0)->desc, "tab\tnew?line ?[31m ? ? ok \xc3\xa9");
	memset(long_one, 'x', sizeof(long_one) - 1);
	long_one[sizeof(long_one) - 1] = '\0';
	assert_int_equal(evq_push(&q, EVQ_EV_TEST, 1, long_one), 0);
	assert_int_equal(strlen(evq_peek(&q, 1)->desc), EVQ_MAX_DESC);
	assert_int_equal(evq_push(&q, 0, 1, "bad id"), -1);
	assert_int_equal(evq_push(&q, 100000, 1, "bad id"), -1);
	evq_close(&q);
}

static void
test_ack_beyond_next_seq(void **state)
{
	struct fixture *f = *state;
	struct evq q;
	uint64_t s;

	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	s = q.next_seq;
	/* the manager has seen later sequences: new events go above them */
	assert_int_equal(evq_ack(&q, s + 100000), 0);
	assert_int_equal(q.next_seq, s + 100001);
	push_n(&q, 1, 1);
	assert_int_equal(evq_peek(&q, 0)->seq, s + 100001);
	evq_close(&q);
	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	assert_int_equal(evq_peek(&q, 0)->seq, s + 100001);
	evq_close(&q);
}

static void
test_compaction_bounds_the_file(void **state)
{
	struct fixture *f = *state;
	struct evq q;
	int i;

	open_q(f, &q, EVQ_DEFAULT_MAX_BYTES, EVQ_DEFAULT_MAX_EVENTS);
	for (i = 0; i < 3000; i++) {
		assert_int_equal(
		    evq_push_nosync(&q, EVQ_EV_TEST, i, "a fairly ordinary event text"), 0);
		assert_int_equal(evq_ack(&q, evq_peek(&q, 0)->seq), 0);
	}
	assert_int_equal(evq_sync(&q), 0);
	assert_true(file_size(f->path) < 200 * 1024);
	evq_close(&q);
}

static void
test_record_parser(void **state)
{
	unsigned char buf[EVQ_HDR_LEN + EVQ_MAX_BODY];
	struct evq_record r, back;
	const char *why = NULL;
	size_t len;
	long used;

	memset(&r, 0, sizeof(r));
	r.type = EVQ_REC_EVENT;
	r.seq = 42;
	r.time_ms = 1795349361699;
	r.event_id = 4012;
	r.desc = "heartbeat failed";
	r.desc_len = strlen(r.desc);
	len = evq_encode_record(&r, buf);
	assert_int_equal(len, EVQ_HDR_LEN + 20 + 16);
	used = evq_parse_record(buf, len, &back, &why);
	assert_int_equal(used, (long)len);
	assert_int_equal(back.seq, 42);
	assert_int_equal(back.time_ms, 1795349361699);
	assert_int_equal(back.event_id, 4012);
	assert_memory_equal(back.desc, "heartbeat failed", 16);
	/* every shorter prefix is a torn record, never a wrong one */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(evq_parse_record(buf, n, &back, &why), 0);
	buf[EVQ_HDR_LEN + 3] ^= 1;
	assert_int_equal(evq_parse_record(buf, len, &back, &why), -1);
	assert_string_equal(why, "checksum mismatch");
	buf[0] = 'X';
	assert_int_equal(evq_parse_record(buf, len, &back, &why), -1);
	assert_string_equal(why, "not a record (bad magic)");
	/* crc32 of "123456789" is the standard check value */
	assert_int_equal(evq_crc32(0, "123456789", 9), 0xcbf43926u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_append_ack_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_checksum_in_the_middle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unwritable_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_drops_oldest_exactly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_descriptions_are_cleaned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ack_beyond_next_seq, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compaction_bounds_the_file, setup, teardown),
	    cmocka_unit_test(test_record_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
