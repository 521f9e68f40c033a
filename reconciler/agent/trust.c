/*
 * The Sigstore trust root kept current through TUF (sigstore.tuf in
 * tollgate.yaml; README.md "Trust root").
 *
 * At start the root last verified (the TUF cache under stateDir) is put
 * in force; then at the first cycle and every sigstore.tuf.refresh the
 * TUF client runs against the mirror, and a trusted_root.json it verified
 * becomes the default root of every verification (tg_trustroot_set_default).
 * A refresh that fails changes nothing: the last verified root (or the
 * built-in one, when none was ever verified) stays in force, and every
 * cycle says so (a warning, the status document's trustRoot.stale, the
 * metric tollgate_trust_root_age_seconds). Nothing unverified is used.
 */
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"
#include "tollgate/http.h"
#include "tollgate/log.h"
#include "tollgate/trustroot.h"
#include "tollgate/tuf.h"
#include "tollgate/util.h"

/* The bootstrap root.json of Sigstore's public-good repository. */
extern const char tg_tuf_root_public_good[];
extern const size_t tg_tuf_root_public_good_len;

/* A failed refresh is tried again after this long at most (a blackholed
 * mirror costs the HTTP timeouts once per this, not every cycle). */
#define TRUST_RETRY_S 300.0

/* The target Sigstore publishes its trust root as. */
#define TRUST_TARGET "trusted_root.json"

void tg_agent__trust_free(tg_agent_trust *t)
{
	if (!t)
		return;
	free(t->cache_dir);
	free(t->bootstrap);
	free(t->bootstrap_name);
	free(t->error);
	free(t);
}

static void trust_opts(tg_tuf_opts *o, const tg_agent *a, tg_http *http)
{
	memset(o, 0, sizeof(*o));
	o->mirror = a->cfg->tuf.mirror;
	o->cache_dir = a->trust->cache_dir;
	o->bootstrap = a->trust->bootstrap;
	o->bootstrap_len = a->trust->bootstrap_len;
	o->bootstrap_name = a->trust->bootstrap_name;
	o->target = TRUST_TARGET;
	o->http = http;
}

/* Put a verified target in force; the verdicts reached with another root
 * are forgotten. */
static int install(tg_agent *a, const tg_tuf_result *res)
{
	tg_agent_trust *t = a->trust;
	char *name =
	        tg_aprintf("%s from %s (targets version %lld)", TRUST_TARGET,
	                   a->cfg->tuf.mirror, (long long)res->targets_version);
	int error = tg_trustroot_set_default(name, res->data, res->len);

	free(name);
	if (error < 0)
		return error;
	t->verified_at = res->verified_at;
	t->root_version = res->root_version;
	t->targets_version = res->targets_version;
	tg_verdict_cache_clear(a->cache);
	return 0;
}

/* Read the bootstrap root: sigstore.tuf.root, or the built-in one. */
static int read_bootstrap(tg_agent_trust *t, const tg_config *cfg)
{
	int error;

	if (!cfg->tuf.root) {
		t->bootstrap = tg_strndup(tg_tuf_root_public_good,
		                          tg_tuf_root_public_good_len);
		t->bootstrap_len = tg_tuf_root_public_good_len;
		t->bootstrap_name = tg_strdup("built-in Sigstore public-good "
		                              "TUF root.json");
		return 0;
	}
	if ((error = tg_file_read(&t->bootstrap, &t->bootstrap_len,
	                          cfg->tuf.root, TG_TUF_MAX_ROOT_BYTES)) < 0)
		return tg_error_prefix(error, "%s: sigstore.tuf.root",
		                       cfg->file);
	t->bootstrap_name = tg_strdup(cfg->tuf.root);
	return 0;
}

int tg_agent__trust_open(tg_agent *a)
{
	const tg_config *cfg = a->cfg;
	tg_agent_trust *t;
	tg_tuf_result res;
	tg_tuf_opts o;
	char digest[TG_DIGEST_STR_LEN + 1], *dir;
	int error;

	if (!cfg->tuf.enabled)
		return 0;
	t = a->trust = tg_calloc(1, sizeof(*t));
	t->started_at = tg_now();
	if ((error = read_bootstrap(t, cfg)) < 0)
		return error;
	/* One cache per mirror: another repository's metadata is never
	 * taken for this one's. */
	tg_sha256_digest_str(digest, cfg->tuf.mirror, strlen(cfg->tuf.mirror));
	dir = tg_path_join(cfg->state_dir, "tuf");
	t->cache_dir = tg_aprintf("%s/%.16s", dir, digest + 7);
	free(dir);
	trust_opts(&o, a, NULL);
	if (tg_tuf_load_cached(&res, &o) == 0 && install(a, &res) == 0)
		tg_log(TG_LOG_INFO, "trust root from the TUF cache", "mirror",
		       cfg->tuf.mirror, "cache", t->cache_dir, NULL);
	tg_error_clear();
	tg_tuf_result_clear(&res);
	return 0;
}

/* One run of the TUF client; 0 or its error. */
static int refresh(tg_agent *a)
{
	const char *url = a->cfg->tuf.mirror, *host;
	char hostport[256];
	const char *insecure[1];
	tg_http_options ho;
	tg_http *http = NULL;
	tg_tuf_result res;
	tg_tuf_opts o;
	int error;

	memset(&ho, 0, sizeof(ho));
	/* TUF metadata is signed: a plain-HTTP mirror the configuration
	 * names is allowed (what it serves is verified all the same). */
	if (tg_str_has_prefix(url, "http://")) {
		host = url + 7;
		tg_strlcpy(hostport, host,
		           strcspn(host, "/") + 1 < sizeof(hostport)
		                   ? strcspn(host, "/") + 1
		                   : sizeof(hostport));
		insecure[0] = hostport;
		ho.insecure_hosts = insecure;
		ho.insecure_hosts_count = 1;
	}
	if ((error = tg_http_new(&http, &ho)) < 0)
		return error;
	trust_opts(&o, a, http);
	if ((error = tg_tuf_refresh(&res, &o)) == 0)
		error = install(a, &res);
	tg_tuf_result_clear(&res);
	tg_http_free(http);
	return error;
}

void tg_agent__trust_refresh(tg_agent *a)
{
	tg_agent_trust *t = a->trust;
	double now = tg_monotonic();
	char when[21];

	if (!t)
		return;
	if (now >= t->next_at) {
		free(t->error);
		t->error = NULL;
		if (refresh(a) == 0) {
			t->next_at = now + (double)a->cfg->tuf.refresh;
			tg_log(TG_LOG_INFO, "trust root verified through TUF",
			       "mirror", a->cfg->tuf.mirror, NULL);
		} else {
			t->error = tg_strdup(tg_error_last());
			t->next_at =
			        now +
			        ((double)a->cfg->tuf.refresh < TRUST_RETRY_S
			                 ? (double)a->cfg->tuf.refresh
			                 : TRUST_RETRY_S);
		}
	}
	if (!t->error)
		return;
	if (t->verified_at)
		tg_format_rfc3339(when, t->verified_at);
	tg_log(TG_LOG_WARN,
	       "trust root refresh through TUF failed: verifying with the "
	       "last verified root",
	       "mirror", a->cfg->tuf.mirror, "error", t->error, "verifiedAt",
	       t->verified_at ? when : "never (the built-in root is in use)",
	       NULL);
}

json_t *tg_agent__trust_doc(const tg_agent *a)
{
	const tg_agent_trust *t = a->trust;
	json_t *doc;
	char when[21];

	if (!t)
		return NULL;
	doc = json_pack("{s:s,s:s}", "source",
	                t->verified_at ? "tuf" : "built-in", "mirror",
	                a->cfg->tuf.mirror);
	if (t->verified_at) {
		tg_format_rfc3339(when, t->verified_at);
		json_object_set_new(doc, "rootVersion",
		                    json_integer(t->root_version));
		json_object_set_new(doc, "targetsVersion",
		                    json_integer(t->targets_version));
		json_object_set_new(doc, "verifiedAt", json_string(when));
	}
	if (t->error) {
		json_t *e = json_string(t->error);

		json_object_set_new(doc, "stale",
		                    e ? e : json_string("refresh failed"));
	}
	return doc;
}

bool tg_agent_trust_state(const tg_agent *a, int64_t *age, bool *stale)
{
	const tg_agent_trust *t = a->trust;

	if (!t)
		return false;
	*age = tg_now() - (t->verified_at ? t->verified_at : t->started_at);
	*stale = t->error != NULL;
	return true;
}
