/*
 * Leader election with a coordination.k8s.io/v1 Lease, as client-go's
 * leaderelection does it: the holder renews the Lease every retry period;
 * another candidate takes it only when it has seen the same record, with
 * another holder, unchanged for the lease duration (its own clock, not the
 * record's times) or when the holder released it (empty holderIdentity).
 * Every write is a PUT carrying the resourceVersion read, so of two
 * candidates writing at once the server accepts one (the other gets 409).
 *
 * A holder counts itself leader only while its last successful renewal is
 * younger than the renew deadline (shorter than the lease duration, so it
 * stops before anyone else may start).
 */
#ifndef TOLLGATE_LEASE_H
#define TOLLGATE_LEASE_H

#include <stdbool.h>

#include "tollgate/kube.h"
#include "tollgate/error.h"

/* client-go's defaults, seconds. */
#define TG_LEASE_DURATION_S 15
#define TG_LEASE_RENEW_DEADLINE_S 10
#define TG_LEASE_RETRY_PERIOD_S 2

/* The Lease's name in the inventory namespace. */
#define TG_LEASE_NAME "tollgate-leader"

typedef struct tg_lease tg_lease;

typedef struct tg_lease_options {
	const char *namespace_; /* created when missing */
	const char *name;       /* NULL: TG_LEASE_NAME */
	const char *identity;   /* this candidate */
	/* 0: the defaults above. */
	double duration_s, renew_deadline_s, retry_period_s;
} tg_lease_options;

/* k is borrowed and must outlive l. Nothing is sent yet. */
TG_WUR int
tg_lease_new(tg_lease **out, tg_kube *k, const tg_lease_options *opts);
void tg_lease_free(tg_lease *l);

/*
 * Acquire or renew once. 0 with *held telling whether this candidate
 * holds the Lease now (a lost race is 0 with *held false), or a negative
 * code when the cluster could not be asked (then *held is false if the
 * renew deadline passed).
 */
TG_WUR int tg_lease_try(tg_lease *l, bool *held);

/* Leader now: held, and renewed within the renew deadline. */
bool tg_lease_held(const tg_lease *l);

/* Seconds since the last successful renewal (large when never). */
double tg_lease_since_renew(const tg_lease *l);

/* The holder seen last ("" when none), borrowed. */
const char *tg_lease_holder(const tg_lease *l);

/* Give the Lease up (empty holder) so another candidate takes it at once.
 * 0 also when not held. */
TG_WUR int tg_lease_release(tg_lease *l);

#endif
