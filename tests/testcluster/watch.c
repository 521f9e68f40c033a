/*
 * Watches (?watch=1 on a collection): a stream of JSON events, one per
 * line ({"type":"ADDED","object":{...}}), over chunked HTTP/1.1, for every
 * resource type. Without resourceVersion (or with "0") the stream starts
 * with ADDED for every object that exists; with one it replays the events
 * after it from the ring. When they were dropped (or compacted by
 * POST /testcluster/watches) the stream is one ERROR event with a 410
 * Expired Status, as kube-apiserver's watch cache answers. With
 * allowWatchBookmarks=true a quiet stream gets a BOOKMARK event carrying
 * the current resourceVersion every st->bookmark_s seconds.
 */
/* POLLRDHUP */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tc.h"
#include "tollgate/util.h"

struct tc_watch {
	tc_state *st;
	char *rkey;
	char *ns;       /* NULL: every namespace */
	tc_type *table; /* answer rows of a Table (kubectl get -w) */
	bool full;      /* Table rows carry whole objects */
	tc_selector *sel;
	uint64_t after;
	time_t deadline;
	tg_buf out;
	size_t off;
	char *api_version, *kind; /* of bookmarks */
	bool bookmarks;
	time_t next_bookmark;
	uint64_t bookmark_rv; /* last resourceVersion sent in a bookmark */
	uint64_t epoch;       /* st->watch_epoch when it started */
	bool counted;         /* in st->watches_open */
	int fd;               /* the client's socket, -1: not known */
	time_t next_peer_check;
	bool done; /* nothing more after what is in out */
};

void tc_watch_free(struct tc_watch *w)
{
	if (w == NULL)
		return;
	free(w->rkey);
	free(w->ns);
	free(w->api_version);
	free(w->kind);
	tc_type_free(w->table);
	tc_selector_free(w->sel);
	tg_buf_free(&w->out);
	free(w);
}

static void emit(struct tc_watch *w, const char *type, json_t *obj)
{
	json_t *one = w->table ? json_pack("[O]", obj) : NULL;
	json_t *ev = json_pack("{s:s,s:o}", "type", type, "object",
	                       w->table ? tc_table(w->table, one, NULL, w->full)
	                                : json_incref(obj));
	char *s = tc_dumps(ev);

	json_decref(one);
	tc_buf_check(tg_buf_puts(&w->out, s));
	tc_buf_check(tg_buf_puts(&w->out, "\n"));
	free(s);
	json_decref(ev);
}

static void emit_line(struct tc_watch *w, json_t *ev)
{
	char *s = tc_dumps(ev);

	tc_buf_check(tg_buf_puts(&w->out, s));
	tc_buf_check(tg_buf_puts(&w->out, "\n"));
	free(s);
	json_decref(ev);
}

/* The ERROR event of a compacted history: kube-apiserver's Status. */
static void emit_expired(struct tc_watch *w, uint64_t asked, uint64_t oldest)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "too old resource version: %llu (%llu)",
	         (unsigned long long)asked, (unsigned long long)oldest);
	emit_line(w,
	          json_pack("{s:s,s:{s:s,s:s,s:{},s:s,s:s,s:s,s:i}}", "type",
	                    "ERROR", "object", "kind", "Status", "apiVersion",
	                    "v1", "metadata", "status", "Failure", "message",
	                    msg, "reason", "Expired", "code", 410));
	w->done = true;
}

static void emit_bookmark(struct tc_watch *w)
{
	char rv[32];

	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)w->after);
	emit_line(w,
	          json_pack("{s:s,s:{s:s,s:s,s:{s:s}}}", "type", "BOOKMARK",
	                    "object", "kind", w->kind, "apiVersion",
	                    w->api_version, "metadata", "resourceVersion", rv));
	w->bookmark_rv = w->after;
}

/* The oldest resourceVersion the ring can replay after. */
static uint64_t oldest_replayable(const tc_state *st)
{
	uint64_t ring = 0;

	if (st->ev_count == TC_MAX_EVENTS)
		ring = st->events[st->ev_start].seq - 1;
	return ring > st->compacted ? ring : st->compacted;
}

/* Ended by POST /testcluster/watches: queue its last event (lock held). */
static void end_by_control(struct tc_watch *w)
{
	if (w->st->watch_end_gone)
		emit_expired(w, w->after, oldest_replayable(w->st));
	w->done = true;
}

/* A bookmark is due on this quiet stream: queue it (lock held). */
static bool bookmark_due(struct tc_watch *w)
{
	time_t now = time(NULL);

	if (!w->bookmarks || now < w->next_bookmark)
		return false;
	w->next_bookmark = now + (time_t)w->st->bookmark_s;
	if (w->after == w->bookmark_rv)
		return false;
	emit_bookmark(w);
	return true;
}

static bool wants(const struct tc_watch *w, const tc_event *e)
{
	const char *ns;

	if (strcmp(e->rkey, w->rkey) != 0)
		return false;
	ns = tc_obj_ns(e->object);
	if (w->ns != NULL && (ns == NULL || strcmp(ns, w->ns) != 0))
		return false;
	return tc_selector_match(w->sel, e->object);
}

/* Queue the events after w->after (lock held). */
static void collect(struct tc_watch *w)
{
	tc_state *st = w->st;
	size_t i;

	for (i = tc_events_after(st, w->after); i < st->ev_count; i++) {
		tc_event *e = &st->events[(st->ev_start + i) % TC_MAX_EVENTS];

		w->after = e->seq;
		if (wants(w, e))
			emit(w, e->type_name, e->object);
	}
}

/*
 * Whether the client hung up (checked at most once a second). A watch's
 * client sends nothing after its request, so a hang-up or an error on
 * its socket means it is gone; kube-apiserver then ends the watch (its
 * request is cancelled). libmicrohttpd notices only when it next writes,
 * so a stream with no event for it would outlive its client until its
 * timeout, its thread woken by every write to the store meanwhile.
 */
static bool client_gone(struct tc_watch *w)
{
	struct pollfd p = { .fd = w->fd, .events = POLLRDHUP };
	time_t now = time(NULL);

	if (w->fd < 0 || now < w->next_peer_check)
		return false;
	w->next_peer_check = now + 1;
	if (poll(&p, 1, 0) <= 0)
		return false;
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

long tc_watch_read(struct tc_watch *w, char *buf, size_t max)
{
	tc_state *st = w->st;
	struct timespec until;
	size_t n;

	if (w->off == w->out.len) {
		tg_buf_clear(&w->out);
		w->off = 0;
		if (w->done)
			return -1;
		pthread_mutex_lock(&st->lock);
		for (;;) {
			if (w->epoch != st->watch_epoch) {
				end_by_control(w);
				break;
			}
			collect(w);
			/* A due bookmark goes out even at the deadline, as
			 * kube-apiserver sends one before a watch times out. */
			if (w->out.len > 0 || st->stopping || bookmark_due(w) ||
			    time(NULL) >= w->deadline || client_gone(w))
				break;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&st->changed, &st->lock, &until);
		}
		pthread_mutex_unlock(&st->lock);
		if (w->out.len == 0)
			return -1;
	}
	n = w->out.len - w->off;
	if (n > max)
		n = max;
	memcpy(buf, w->out.data + w->off, n);
	w->off += n;
	return (long)n;
}

static int start_point(struct tc_watch *w,
                       const tc_req *req,
                       const tc_target *tg,
                       tc_resp *resp)
{
	const char *rv = tc_req_arg(req, "resourceVersion");
	uint64_t v;
	json_t *all, *o;
	size_t i;

	if (rv == NULL || rv[0] == '\0' || strcmp(rv, "0") == 0) {
		w->after = w->st->rv;
		all = tc_store_list(w->st, tg->type, tg->ns);
		json_array_foreach(all, i, o) {
			if (tc_selector_match(w->sel, o))
				emit(w, "ADDED", o);
		}
		json_decref(all);
		return 0;
	}
	if (tg_parse_u64(&v, rv, strlen(rv), UINT64_MAX) < 0) {
		tc_status_bad_request(resp,
		                      "resourceVersion: invalid value "
		                      "\"%s\"",
		                      rv);
		return -1;
	}
	w->after = v;
	if (v < oldest_replayable(w->st))
		emit_expired(w, v, oldest_replayable(w->st));
	return 0;
}

static time_t watch_deadline(const tc_req *req)
{
	const char *s = tc_req_arg(req, "timeoutSeconds");
	uint64_t v;

	if (s == NULL || tg_parse_u64(&v, s, strlen(s), 86400) < 0)
		v = TC_WATCH_DEFAULT_S;
	return time(NULL) + (time_t)v;
}

void tc_verb_watch(tc_state *st,
                   const tc_req *req,
                   const tc_target *tg,
                   tc_resp *resp)
{
	struct tc_watch *w = tg_calloc(1, sizeof(*w));
	char *err = NULL;

	w->st = st;
	w->rkey = tc_type_key(tg->type);
	w->ns = tg->ns ? tg_strdup(tg->ns) : NULL;
	if (tc_req_wants_table(req)) {
		const char *inc = tc_req_arg(req, "includeObject");

		w->table = tc_type_dup(tg->type);
		w->full = inc != NULL && strcmp(inc, "Object") == 0;
	}
	w->deadline = watch_deadline(req);
	w->epoch = st->watch_epoch;
	w->fd = tc_req_socket(req);
	w->next_peer_check = time(NULL) + 1;
	w->api_version = tc_type_api_version(tg->type);
	w->kind = tg_strdup(tg->type->kind);
	/* kubectl's Table watches never ask for bookmarks. */
	w->bookmarks = tc_req_flag(req, "allowWatchBookmarks") && !w->table;
	w->next_bookmark = time(NULL) + (time_t)st->bookmark_s;
	tg_buf_init(&w->out, 256u * 1024 * 1024);
	if (tc_selector_parse(&w->sel, tc_req_arg(req, "labelSelector"),
	                      tc_req_arg(req, "fieldSelector"), &err) < 0) {
		tc_status_bad_request(resp, "%s", err);
		free(err);
		tc_watch_free(w);
		return;
	}
	if (start_point(w, req, tg, resp) < 0) {
		tc_watch_free(w);
		return;
	}
	w->counted = true;
	st->watches_open++;
	resp->status = 200;
	resp->content_type = w->table ? "application/json;as=Table;v=v1;"
	                                "g=meta.k8s.io"
	                              : "application/json";
	resp->watch = w;
}

void tc_watch_release(struct tc_watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->st->lock);
	if (w->counted)
		w->st->watches_open--;
	pthread_mutex_unlock(&w->st->lock);
	tc_watch_free(w);
}
