/*
 * evq: see evq.h.  The file is a log of checksummed records; the queue in
 * memory is rebuilt from it at start (evq_open) and the file is rewritten
 * (compacted) then and whenever acknowledged records make up most of it.
 */
#include "evq.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static const unsigned char evq_magic[4] = {'V', 'E', 'Q', '1'};

uint32_t
evq_crc32(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	int k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static size_t
evq_body_len(const struct evq_record *rec)
{
	switch (rec->type) {
	case EVQ_REC_STATE:
		return 24;
	case EVQ_REC_EVENT:
		return 20 + rec->desc_len;
	case EVQ_REC_ACK:
		return 8;
	case EVQ_REC_DROP:
		return 16;
	}
	return 0;
}

size_t
evq_encode_record(const struct evq_record *rec, unsigned char *out)
{
	size_t blen = evq_body_len(rec);
	unsigned char *b = out + EVQ_HDR_LEN;

	BUG_ON(blen > EVQ_MAX_BODY);
	memcpy(out, evq_magic, 4);
	out[4] = (unsigned char)rec->type;
	out[5] = out[6] = out[7] = 0;
	put32(out + 8, (uint32_t)blen);
	switch (rec->type) {
	case EVQ_REC_STATE:
		put64(b, rec->seq);
		put64(b + 8, rec->acked);
		put64(b + 16, rec->dropped);
		break;
	case EVQ_REC_EVENT:
		put64(b, rec->seq);
		put64(b + 8, (uint64_t)rec->time_ms);
		put32(b + 16, rec->event_id);
		memcpy(b + 20, rec->desc, rec->desc_len);
		break;
	case EVQ_REC_ACK:
		put64(b, rec->seq);
		break;
	case EVQ_REC_DROP:
		put64(b, rec->seq);
		put64(b + 8, rec->dropped);
		break;
	}
	put32(out + 12, evq_crc32(evq_crc32(0, out + 4, 8), b, blen));
	return EVQ_HDR_LEN + blen;
}

long
evq_parse_record(const unsigned char *p, size_t len, struct evq_record *rec, const char **why_r)
{
	size_t blen, want;
	const unsigned char *b = p + EVQ_HDR_LEN;

	memset(rec, 0, sizeof(*rec));
	if (memcmp(p, evq_magic, len < 4 ? len : 4) != 0) {
		*why_r = "not a record (bad magic)";
		return -1;
	}
	if (len < EVQ_HDR_LEN)
		return 0;
	if (p[5] || p[6] || p[7]) {
		*why_r = "malformed record header";
		return -1;
	}
	blen = get32(p + 8);
	switch (p[4]) {
	case EVQ_REC_STATE:
		want = blen == 24;
		break;
	case EVQ_REC_EVENT:
		want = blen >= 20 && blen <= EVQ_MAX_BODY;
		break;
	case EVQ_REC_ACK:
		want = blen == 8;
		break;
	case EVQ_REC_DROP:
		want = blen == 16;
		break;
	default:
		*why_r = "unknown record type";
		return -1;
	}
	if (!want) {
		*why_r = "record length out of range";
		return -1;
	}
	if (len - EVQ_HDR_LEN < blen)
		return 0; /* the rest was never written */
	if (get32(p + 12) != evq_crc32(evq_crc32(0, p + 4, 8), b, blen)) {
		*why_r = "checksum mismatch";
		return -1;
	}
	rec->type = (enum evq_rec_type)p[4];
	switch (rec->type) {
	case EVQ_REC_STATE:
		rec->seq = get64(b);
		rec->acked = get64(b + 8);
		rec->dropped = get64(b + 16);
		break;
	case EVQ_REC_EVENT:
		rec->seq = get64(b);
		rec->time_ms = (int64_t)get64(b + 8);
		rec->event_id = get32(b + 16);
		rec->desc = (const char *)b + 20;
		rec->desc_len = blen - 20;
		if (rec->event_id < 1 || rec->event_id > 99999) {
			*why_r = "event ID out of range";
			return -1;
		}
		break;
	case EVQ_REC_ACK:
		rec->seq = get64(b);
		break;
	case EVQ_REC_DROP:
		rec->seq = get64(b);
		rec->dropped = get64(b + 8);
		break;
	}
	return (long)(EVQ_HDR_LEN + blen);
}

/*
 * A description the manager accepts whatever a module put in it: valid
 * UTF-8 without control characters, C1 or bidirectional controls (the
 * rules of PROTOCOL.md 4.2), cut at EVQ_MAX_DESC on a character boundary.
 * Anything else becomes '?'.  Returns a new string (caller frees).
 */
static char *
evq_desc_clean(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t i = 0, o = 0;

	if (out == NULL)
		return NULL;
	while (i < len) {
		const unsigned char *c = (const unsigned char *)s + i;
		size_t n = c[0] < 0x80             ? 1
		           : (c[0] & 0xe0) == 0xc0 ? 2
		           : (c[0] & 0xf0) == 0xe0 ? 3
		           : (c[0] & 0xf8) == 0xf0 ? 4
		                                   : 0;
		size_t k;
		int wf = n > 0 && i + n <= len, ok;

		for (k = 1; wf && k < n; k++)
			wf = (c[k] & 0xc0) == 0x80;
		if (wf && n == 2 && c[0] < 0xc2)
			wf = 0; /* overlong */
		if (wf && n == 3) {
			uint32_t cp = (uint32_t)(c[0] & 0x0f) << 12 | (uint32_t)(c[1] & 0x3f) << 6 |
			              (c[2] & 0x3f);
			wf = cp >= 0x800 && !(cp >= 0xd800 && cp <= 0xdfff);
		}
		if (wf && n == 4) {
			uint32_t cp = (uint32_t)(c[0] & 0x07) << 18 |
			              (uint32_t)(c[1] & 0x3f) << 12 | (uint32_t)(c[2] & 0x3f) << 6 |
			              (c[3] & 0x3f);
			wf = cp >= 0x10000 && cp <= 0x10ffff;
		}
		ok = wf;
		if (ok && n == 1 && (c[0] < 0x20 || c[0] == 0x7f))
			ok = c[0] == '\t';
		if (ok && n == 2 && c[0] == 0xc2 && c[1] <= 0x9f)
			ok = 0; /* C1 */
		if (ok && n == 3 && c[0] == 0xe2 &&
		    ((c[1] == 0x80 && c[2] >= 0xaa && c[2] <= 0xae) ||
		     (c[1] == 0x81 && c[2] >= 0xa6 && c[2] <= 0xa9)))
			ok = 0; /* bidirectional overrides and isolates */
		if (!wf)
			n = 1;
		if (o + (ok ? n : 1) > EVQ_MAX_DESC)
			break;
		if (ok)
			memcpy(out + o, c, n);
		else
			out[o] = '?'; /* one for a whole refused character */
		o += ok ? n : 1;
		i += n;
	}
	out[o] = '\0';
	return out;
}

static int __attribute__((format(printf, 2, 3))) evq_fail(struct evq *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->last_error, sizeof(q->last_error), fmt, ap);
	va_end(ap);
	log_warn("event queue: %s", q->last_error);
	return -1;
}

/* Appends an event to the memory queue (takes desc). */
static int
evq_mem_add(struct evq *q, uint64_t seq, int64_t time_ms, int event_id, char *desc, size_t size)
{
	struct evq_event *e;

	if (q->head + q->n == q->cap) {
		if (q->head > 0) {
			memmove(q->ev, q->ev + q->head, q->n * sizeof(*q->ev));
			q->head = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 256;
			struct evq_event *v = realloc(q->ev, cap * sizeof(*v));
			if (v == NULL)
				return -1;
			q->ev = v;
			q->cap = cap;
		}
	}
	e = &q->ev[q->head + q->n++];
	e->seq = seq;
	e->time_ms = time_ms;
	e->event_id = event_id;
	e->desc = desc;
	e->size = size;
	q->bytes += size;
	return 0;
}

static void
evq_mem_pop(struct evq *q)
{
	struct evq_event *e = &q->ev[q->head];

	q->bytes -= e->size;
	free(e->desc);
	q->head++;
	q->n--;
	if (q->n == 0)
		q->head = 0;
}

/* Removes the events up to seq; the count removed. */
static uint64_t
evq_mem_remove(struct evq *q, uint64_t seq)
{
	uint64_t k = 0;

	while (q->n > 0 && q->ev[q->head].seq <= seq) {
		evq_mem_pop(q);
		k++;
	}
	return k;
}

static int
evq_write(struct evq *q, const unsigned char *rec, size_t len)
{
	ssize_t w;

	if (q->fd < 0)
		return -1;
	w = write(q->fd, rec, len);
	if (w == (ssize_t)len) {
		q->file_bytes += len;
		return 0;
	}
	/* a short write would leave a torn record before every later one */
	if (ftruncate(q->fd, (off_t)q->file_bytes) < 0)
		log_warn("event queue: cannot cut back %s: %s", q->path, strerror(errno));
	return evq_fail(q, "cannot append to %s: %s", q->path,
	                w < 0 ? strerror(errno) : "short write");
}

static int
evq_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Sequences are reserved in blocks in events.seq (atomic write) before
 * they are used, so that a queue file lost or set aside never makes the
 * agent reuse a sequence the manager already stored (it would be taken
 * for a resend and dropped).
 */
static int
evq_reserve(struct evq *q)
{
	char text[32];
	uint64_t to = q->next_seq + EVQ_SEQ_BLOCK;

	if (q->next_seq < q->seq_reserved)
		return 0;
	snprintf(text, sizeof(text), "%" PRIu64 "\n", to);
	if (file_write_atomic(q->seq_path, text, strlen(text), 0600) < 0)
		return evq_fail(q, "cannot write %s: %s", q->seq_path, strerror(errno));
	q->seq_reserved = to;
	return 0;
}

/* Writes the file anew: a state record and the queued events. */
static int
evq_compact(struct evq *q)
{
	char tmp[620];
	unsigned char rec[EVQ_HDR_LEN + EVQ_MAX_BODY];
	struct evq_record r;
	FILE *fp;
	size_t i, len;
	uint64_t total = 0;
	int fd, ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", q->path) >= (int)sizeof(tmp))
		return -1;
	fp = fopen(tmp, "wbe");
	if (fp == NULL)
		return evq_fail(q, "cannot create %s: %s", tmp, strerror(errno));
	memset(&r, 0, sizeof(r));
	r.type = EVQ_REC_STATE;
	r.seq = q->next_seq;
	r.acked = q->acked;
	r.dropped = q->dropped;
	len = evq_encode_record(&r, rec);
	ok = fwrite(rec, 1, len, fp) == len;
	total += len;
	for (i = 0; ok && i < q->n; i++) {
		const struct evq_event *e = &q->ev[q->head + i];
		memset(&r, 0, sizeof(r));
		r.type = EVQ_REC_EVENT;
		r.seq = e->seq;
		r.time_ms = e->time_ms;
		r.event_id = (uint32_t)e->event_id;
		r.desc = e->desc;
		r.desc_len = strlen(e->desc);
		len = evq_encode_record(&r, rec);
		ok = fwrite(rec, 1, len, fp) == len;
		total += len;
	}
	ok = ok && fflush(fp) == 0 && fdatasync(fileno(fp)) == 0;
	if (fclose(fp) != 0)
		ok = 0;
	if (!ok || rename(tmp, q->path) < 0) {
		unlink(tmp);
		return evq_fail(q, "cannot rewrite %s: %s", q->path, strerror(errno));
	}
	evq_fsync_dir(q->dir);
	fd = open(q->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return evq_fail(q, "cannot open %s: %s", q->path, strerror(errno));
	if (q->fd >= 0)
		close(q->fd);
	q->fd = fd;
	q->file_bytes = total;
	return 0;
}

/* Sets the damaged file aside as events.queue.damaged-<UTC time>. */
static void
evq_set_aside(struct evq *q, char *out, size_t outsize)
{
	struct tm tm;
	time_t t = time(NULL);
	char stamp[32];

	int i;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* two damaged starts in one second must not overwrite the first one set aside */
	for (i = 0; i < 100; i++) {
		int n = i == 0 ? snprintf(out, outsize, "%s.damaged-%s", q->path, stamp)
		               : snprintf(out, outsize, "%s.damaged-%s-%d", q->path, stamp, i);
		if (n >= (int)outsize || access(out, F_OK) < 0)
			break;
	}
	if (strlen(out) >= outsize - 1 || rename(q->path, out) < 0) {
		log_warn("event queue: cannot set %s aside: %s", q->path, strerror(errno));
		out[0] = '\0';
	}
}

/* Rebuilds the memory queue from the file's bytes; the length of the good prefix. */
static size_t
evq_replay(struct evq *q, const unsigned char *data, size_t len, const char **why_r)
{
	size_t off = 0;
	uint64_t last = 0;
	struct evq_record r;

	*why_r = NULL;
	while (off < len) {
		long used = evq_parse_record(data + off, len - off, &r, why_r);
		char *desc;

		if (used == 0) {
			*why_r = "the last record is incomplete (an interrupted write)";
			break;
		}
		if (used < 0)
			break;
		switch (r.type) {
		case EVQ_REC_STATE:
			if (off != 0) {
				*why_r = "a state record in the middle";
				return off;
			}
			q->next_seq = r.seq;
			q->acked = r.acked;
			q->dropped = r.dropped;
			last = r.acked;
			break;
		case EVQ_REC_EVENT:
			if (r.seq <= last || r.seq == 0) {
				*why_r = "sequence numbers out of order";
				return off;
			}
			last = r.seq;
			desc = evq_desc_clean(r.desc, r.desc_len);
			if (desc == NULL || evq_mem_add(q, r.seq, r.time_ms, (int)r.event_id, desc,
			                                (size_t)used) < 0) {
				free(desc);
				*why_r = "out of memory";
				return off;
			}
			break;
		case EVQ_REC_ACK:
			evq_mem_remove(q, r.seq);
			if (r.seq > q->acked)
				q->acked = r.seq;
			break;
		case EVQ_REC_DROP:
			evq_mem_remove(q, r.seq);
			if (r.dropped > q->dropped)
				q->dropped = r.dropped;
			break;
		}
		off += (size_t)used;
	}
	if (last + 1 > q->next_seq)
		q->next_seq = last + 1;
	if (q->acked + 1 > q->next_seq)
		q->next_seq = q->acked + 1;
	return off;
}

/* Drops the oldest until one more event of size fits; the D record goes to the file. */
static int
evq_make_room(struct evq *q, size_t size)
{
	unsigned char rec[EVQ_HDR_LEN + 16];
	struct evq_record r;
	uint64_t upto = 0, k = 0;

	while (q->n > 0 &&
	       ((int64_t)q->n + 1 > q->max_events || (int64_t)(q->bytes + size) > q->max_bytes)) {
		upto = q->ev[q->head].seq;
		evq_mem_pop(q);
		k++;
	}
	if (k == 0)
		return 0;
	q->dropped += k;
	memset(&r, 0, sizeof(r));
	r.type = EVQ_REC_DROP;
	r.seq = upto;
	r.dropped = q->dropped;
	log_warn("event queue full: dropped the %" PRIu64 " oldest events (up to sequence %" PRIu64
	         ", %" PRIu64 " in all)",
	         k, upto, q->dropped);
	return evq_write(q, rec, evq_encode_record(&r, rec));
}

int
evq_open(struct evq *q, const char *dir, int64_t max_bytes, int64_t max_events,
         const char **errstr_r)
{
	char *data = NULL, *seqtext = NULL, aside[700];
	size_t len = 0, good, slen = 0;
	const char *why = NULL;
	int64_t v;
	int missing = 0, ret = -1;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->max_bytes = max_bytes;
	q->max_events = max_events;
	q->next_seq = 1;
	if (str_copy(q->dir, dir, sizeof(q->dir)) < 0 ||
	    path_join(q->path, sizeof(q->path), dir, EVQ_FILE) < 0 ||
	    path_join(q->seq_path, sizeof(q->seq_path), dir, EVQ_SEQ_FILE) < 0) {
		*errstr_r = "state directory path too long";
		return -1;
	}
	if (file_read_all(q->seq_path, 64, &seqtext, &slen) == 0) {
		char *nl = memchr(seqtext, '\n', slen);
		if (nl != NULL)
			*nl = '\0';
		if (parse_i64(seqtext, 1, INT64_MAX, &v) == 0)
			q->seq_reserved = (uint64_t)v;
		free(seqtext);
	}
	if (file_read_all(q->path, (size_t)max_bytes * 4 + 16 * 1024 * 1024, &data, &len) < 0) {
		if (errno == ENOENT) {
			missing = 1;
		} else {
			why = errno == EFBIG ? "the file is larger than the queue allows"
			                     : strerror(errno);
			snprintf(q->damage, sizeof(q->damage), "cannot read it: %s", why);
		}
	} else {
		good = evq_replay(q, (const unsigned char *)data, len, &why);
		if (why != NULL)
			snprintf(q->damage, sizeof(q->damage), "%s at byte %zu of %zu", why, good,
			         len);
	}
	free(data);
	if (missing || q->damage[0]) {
		/*
		 * Sequences past the damage, or of an earlier installation whose
		 * events the manager keeps under this computer, may have been
		 * used: start above every block reserved and above the wall
		 * clock in ms x 1000, which a reinstalled agent has not reached.
		 */
		uint64_t floor = (uint64_t)now_ms() * 1000;
		if (q->seq_reserved > q->next_seq)
			q->next_seq = q->seq_reserved;
		if (floor > q->next_seq)
			q->next_seq = floor;
	}
	if (q->damage[0]) {
		evq_set_aside(q, aside, sizeof(aside));
		if (aside[0]) {
			size_t l = strlen(q->damage);
			snprintf(q->damage + l, sizeof(q->damage) - l,
			         "; %zu queued events kept, the file set aside as %s", q->n, aside);
		}
		log_warn("event queue %s damaged: %s", q->path, q->damage);
	}
	/*
	 * A lower limit than the file's contents: the oldest go, counted (the
	 * compaction below writes the new total).
	 */
	while (q->n > 0 && ((int64_t)q->n > q->max_events || (int64_t)q->bytes > q->max_bytes)) {
		evq_mem_pop(q);
		q->dropped++;
	}
	if (evq_reserve(q) < 0 || evq_compact(q) < 0) {
		*errstr_r = q->last_error;
		goto out;
	}
	ret = 0;
out:
	return ret;
}

void
evq_close(struct evq *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	while (q->n > 0)
		evq_mem_pop(q);
	free(q->ev);
	q->ev = NULL;
	q->cap = 0;
}

int
evq_push_nosync(struct evq *q, int event_id, int64_t time_ms, const char *desc)
{
	unsigned char rec[EVQ_HDR_LEN + EVQ_MAX_BODY];
	struct evq_record r;
	char *d;
	size_t len;

	if (event_id < 1 || event_id > 99999)
		return evq_fail(q, "event ID %d out of range", event_id);
	d = evq_desc_clean(desc, strlen(desc));
	if (d == NULL)
		return evq_fail(q, "out of memory");
	memset(&r, 0, sizeof(r));
	r.type = EVQ_REC_EVENT;
	r.seq = q->next_seq;
	r.time_ms = time_ms;
	r.event_id = (uint32_t)event_id;
	r.desc = d;
	r.desc_len = strlen(d);
	len = evq_encode_record(&r, rec);
	evq_make_room(q, len);
	/* a directory that refuses events.seq must not stop the events: logged, kept */
	evq_reserve(q);
	if (evq_mem_add(q, r.seq, time_ms, event_id, d, len) < 0) {
		free(d);
		return evq_fail(q, "out of memory");
	}
	q->next_seq++;
	/* kept in memory even when the disk refuses it: sent, just not durable */
	evq_write(q, rec, len);
	return 0;
}

int
evq_sync(struct evq *q)
{
	if (q->fd >= 0 && fdatasync(q->fd) < 0)
		return evq_fail(q, "cannot sync %s: %s", q->path, strerror(errno));
	return 0;
}

int
evq_push(struct evq *q, int event_id, int64_t time_ms, const char *desc)
{
	if (evq_push_nosync(q, event_id, time_ms, desc) < 0)
		return -1;
	return evq_sync(q);
}

int
evq_ack(struct evq *q, uint64_t seq)
{
	unsigned char rec[EVQ_HDR_LEN + 8];
	struct evq_record r;

	if (seq <= q->acked)
		return 0;
	q->acked = seq;
	if (seq >= q->next_seq) {
		/* the manager has seen later sequences (a lost queue): never reuse them */
		q->next_seq = seq + 1;
		evq_reserve(q);
	}
	evq_mem_remove(q, seq);
	/*
	 * Not synced: an acknowledgement lost in a crash only makes the agent
	 * send those events again, and the manager drops resends.
	 */
	memset(&r, 0, sizeof(r));
	r.type = EVQ_REC_ACK;
	r.seq = seq;
	if (evq_write(q, rec, evq_encode_record(&r, rec)) < 0)
		return -1;
	if ((q->n == 0 && q->file_bytes > 64 * 1024) || q->file_bytes > 2 * q->bytes + 1024 * 1024)
		return evq_compact(q);
	return 0;
}

const struct evq_event *
evq_peek(const struct evq *q, size_t i)
{
	return i < q->n ? &q->ev[q->head + i] : NULL;
}

size_t
evq_depth(const struct evq *q)
{
	return q->n;
}
