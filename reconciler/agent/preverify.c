/*
 * Verification beside the reading of manifests (issue 20). A cold cycle
 * reads its manifest files on one core while the other waits, and then
 * waits on the registries while it verifies. Here the image references
 * are handed to a worker thread as the reader finds them, and verified
 * there while the reading goes on.
 *
 * While the worker runs, it alone uses the verifier (and through it the
 * registry client, the verdict cache and the trust root); the main thread
 * only reads files and calls tg_agent__preverify_add(). Verdicts are
 * handed over only after tg_agent__preverify_finish() has joined the
 * worker. A reference is verified once per cycle, here or after the
 * reading: the cycle takes each verdict from here and verifies what is
 * missing (references past the limit, or left when the reading failed or
 * a stop was asked for, or every one when the thread could not start).
 *
 * Each batch is one tg_verifier_verify() call. Within a call, two
 * spellings of one image (a tag and its digest) share one verification;
 * across batches the second is answered by the verdict cache when the
 * first was allowed, else verified again, which may give it its own
 * verdict (a registry failing for one and not the other): each verdict is
 * still that of its own reference, and a blocked one blocks its unit.
 * The images of a unit that fails to load later are verified too (their
 * verdicts are dropped; what was allowed stays in the verdict cache).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"
#include "tollgate/limits_verify.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

struct tg_preverify {
	tg_verifier *verifier; /* borrowed; the worker's while it runs */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started, closing;
	/* Guarded by lock. refs[i] (owned) is verified by the worker once
	 * i >= sent; verdicts[i] is its verdict, NULL until then (and for
	 * ever when the verifier refused the batch). */
	char **refs;
	tg_verdict **verdicts;
	size_t nrefs, cap, sent;
	tg_verifier_stats stats; /* summed over the worker's batches */
	size_t early;            /* verdicts made by the worker */
	json_t *seen; /* the main thread's: reference -> index in refs */
	bool full;    /* more distinct references than may be verified */
};

tg_preverify *tg_agent__preverify_new(tg_verifier *v)
{
	tg_preverify *p = tg_calloc(1, sizeof(*p));

	p->verifier = v;
	p->seen = json_object();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	return p;
}

/* Verify what was queued, batch after batch, until closed and drained. */
static void *work(void *arg)
{
	tg_preverify *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		size_t first = p->sent, n = p->nrefs - first, i;
		const char **batch;
		tg_verdict **out;
		tg_verifier_stats st;
		int error;

		if (n == 0) {
			if (p->closing)
				break;
			pthread_cond_wait(&p->wake, &p->lock);
			continue;
		}
		/* refs may be moved by a later add: the batch keeps the
		 * strings, which stay where they are. */
		batch = tg_calloc(n, sizeof(*batch));
		memcpy(batch, p->refs + first, n * sizeof(*batch));
		p->sent = first + n;
		pthread_mutex_unlock(&p->lock);
		out = tg_calloc(n, sizeof(*out));
		error = tg_verifier_verify(out, p->verifier, batch, n);
		tg_verifier_get_stats(&st, p->verifier);
		pthread_mutex_lock(&p->lock);
		if (error == 0) {
			for (i = 0; i < n; i++)
				p->verdicts[first + i] = out[i];
			p->early += n;
			tg_agent__add_stats(&p->stats, &st);
		}
		free(out);
		free(batch);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void tg_agent__preverify_start(tg_preverify *p)
{
	/* Signals stay with the main thread, as before there was a worker. */
	int err = tg_thread_start(&p->thread, work, p);

	if (err) {
		/* Nothing is lost: every reference is verified after the
		 * reading instead. */
		tg_log(TG_LOG_DEBUG, "no thread to verify while reading",
		       "error", strerror(err), NULL);
		return;
	}
	p->started = true;
}

/* Nothing more for the worker: what is queued and not yet taken is left
 * for the check after the reading; the batch in hand is finished. */
static void drop_queue(tg_preverify *p)
{
	pthread_mutex_lock(&p->lock);
	p->sent = p->nrefs;
	p->closing = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void tg_agent__preverify_add(void *ctx, const char *ref)
{
	tg_preverify *p = ctx;

	if (p->full || json_object_get(p->seen, ref))
		return;
	if (p->nrefs == TG_MAX_VERIFY_IMAGES) {
		/* Past the limit the cycle may refuse to verify at all
		 * (when its valid units hold that many): no more network
		 * work here; the check after the reading decides. */
		p->full = true;
		drop_queue(p);
		return;
	}
	json_object_set_new_nocheck(p->seen, ref,
	                            json_integer((json_int_t)p->nrefs));
	pthread_mutex_lock(&p->lock);
	if (p->nrefs == p->cap) {
		/* at most TG_MAX_VERIFY_IMAGES: no overflow */
		p->cap = p->cap ? 2 * p->cap : 64;
		p->refs = tg_realloc(p->refs, p->cap * sizeof(*p->refs));
		p->verdicts =
		        tg_realloc(p->verdicts, p->cap * sizeof(*p->verdicts));
	}
	p->refs[p->nrefs] = tg_strdup(ref);
	p->verdicts[p->nrefs] = NULL;
	p->nrefs++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void tg_agent__preverify_finish(tg_preverify *p, bool cancel)
{
	if (!p->started)
		return;
	if (cancel) {
		drop_queue(p);
	} else {
		pthread_mutex_lock(&p->lock);
		p->closing = true;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
	}
	pthread_join(p->thread, NULL);
	p->started = false;
}

tg_verdict *tg_agent__preverify_take(tg_preverify *p, const char *ref)
{
	json_t *i = json_object_get(p->seen, ref);
	tg_verdict *v;

	if (!i)
		return NULL;
	v = p->verdicts[json_integer_value(i)];
	p->verdicts[json_integer_value(i)] = NULL;
	return v;
}

size_t tg_agent__preverify_stats(tg_verifier_stats *sum, const tg_preverify *p)
{
	tg_agent__add_stats(sum, &p->stats);
	return p->early;
}

void tg_agent__preverify_free(tg_preverify *p)
{
	size_t i;

	if (!p)
		return;
	tg_agent__preverify_finish(p, true);
	for (i = 0; i < p->nrefs; i++) {
		free(p->refs[i]);
		tg_verdict_free(p->verdicts[i]);
	}
	free(p->refs);
	free(p->verdicts);
	json_decref(p->seen);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Verification of the cycle ---------------------------------------------- */

void tg_agent__add_stats(tg_verifier_stats *sum, const tg_verifier_stats *s)
{
	sum->images += s->images;
	sum->verified += s->verified;
	sum->deduplicated += s->deduplicated;
	sum->cached += s->cached;
}

/* The verdicts verified while reading into vs; the references left
 * (pre-verified none) verified now. */
static int verify_rest(tg_plan_verdicts *vs,
                       tg_verifier_stats *st,
                       tg_agent *a,
                       tg_preverify *pre)
{
	const char **refs = tg_calloc(vs->n, sizeof(*refs));
	tg_verdict **out = tg_calloc(vs->n, sizeof(*out));
	size_t *at = tg_calloc(vs->n, sizeof(*at));
	tg_verifier_stats late;
	size_t i, n = 0;
	int error = 0;

	for (i = 0; i < vs->n; i++)
		if (!(vs->v[i] = tg_agent__preverify_take(pre, vs->refs[i]))) {
			refs[n] = vs->refs[i];
			at[n++] = i;
		}
	if (n && (error = tg_verifier_verify(out, a->verifier, refs, n)) == 0) {
		for (i = 0; i < n; i++)
			vs->v[at[i]] = out[i];
		tg_verifier_get_stats(&late, a->verifier);
		late.images = 0; /* counted by the caller */
		tg_agent__add_stats(st, &late);
	}
	free(refs);
	free(out);
	free(at);
	return error;
}

/* Verify every image of every valid unit, each distinct reference once:
 * its verdict from the worker that verified while the manifests were
 * read, or verified now. st: the counters of both. */
int tg_agent__verify_images(tg_plan_verdicts *vs,
                            tg_verifier_stats *st,
                            tg_agent *a,
                            tg_manifest_set *set,
                            tg_preverify *pre)
{
	tg_verifier_stats early = { 0 };
	size_t u, i;

	tg_plan_verdicts_init(vs);
	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		tg_manifest_unit *unit = tg_manifest_set_unit(set, u);
		if (!tg_manifest_unit_is_valid(unit))
			continue;
		for (i = 0; i < tg_manifest_unit_image_count(unit); i++)
			tg_plan_verdicts_add(
			        vs, tg_manifest_image_written(
			                    tg_manifest_unit_image(unit, i)));
	}
	tg_plan_verdicts_alloc(vs);
	a->images_early = tg_agent__preverify_stats(&early, pre);
	early.images = vs->n;
	tg_agent__add_stats(st, &early);
	if (vs->n == 0)
		return 0;
	/* Over the limit: refused whole, as before (the worker stops
	 * queueing there). */
	if (vs->n > TG_MAX_VERIFY_IMAGES)
		return tg_verifier_verify(vs->v, a->verifier, vs->refs, vs->n);
	return verify_rest(vs, st, a, pre);
}
