/*
 * tg-tuf: a test driver for the TUF client (include/tollgate/tuf.h). It
 * runs the client against a mirror, or reads its cache, and prints what it
 * got, so tests/integration/tuf_client.sh and tuf_run.sh can check the workflow
 * against a repository served over HTTP.
 *
 *   tg-tuf refresh MIRROR CACHE_DIR BOOTSTRAP_ROOT [TARGET]
 *   tg-tuf cached  MIRROR CACHE_DIR BOOTSTRAP_ROOT [TARGET]
 *
 * Success prints "ok root=<version> targets=<version> sha256=<hex of the
 * target>"; a failure prints "tg-tuf: <error name>: <detail>" on stderr
 * and exits 1. The mirror's host is allowed over plain HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/tuf.h"
#include "tollgate/util.h"

static int fail(int code)
{
	fprintf(stderr, "tg-tuf: %s: %s\n", tg_error_name(code),
	        tg_error_last());
	return 1;
}

static int run(const char *cmd, tg_tuf_opts *o)
{
	tg_tuf_result res;
	char hex[TG_DIGEST_STR_LEN + 1];
	int error;

	if (!strcmp(cmd, "refresh"))
		error = tg_tuf_refresh(&res, o);
	else
		error = tg_tuf_load_cached(&res, o);
	if (error < 0)
		return fail(error);
	tg_sha256_digest_str(hex, res.data, res.len);
	printf("ok root=%lld targets=%lld sha256=%s\n",
	       (long long)res.root_version, (long long)res.targets_version,
	       hex + 7);
	tg_tuf_result_clear(&res);
	return 0;
}

int main(int argc, char **argv)
{
	tg_http_options ho;
	tg_tuf_opts o;
	tg_http *http = NULL;
	char host[256];
	const char *insecure[1] = { host };
	int error, rc;

	if (argc < 5 || argc > 6 ||
	    (strcmp(argv[1], "refresh") && strcmp(argv[1], "cached"))) {
		fprintf(stderr, "usage: tg-tuf refresh|cached MIRROR CACHE_DIR "
		                "BOOTSTRAP_ROOT [TARGET]\n");
		return 2;
	}
	memset(&ho, 0, sizeof(ho));
	memset(&o, 0, sizeof(o));
	if (tg_str_has_prefix(argv[2], "http://")) {
		tg_strlcpy(host, argv[2] + 7, sizeof(host));
		host[strcspn(host, "/")] = '\0';
		ho.insecure_hosts = insecure;
		ho.insecure_hosts_count = 1;
	}
	ho.max_retries = -1;
	if ((error = tg_http_new(&http, &ho)) < 0)
		return fail(error);
	o.mirror = argv[2];
	o.cache_dir = argv[3];
	o.bootstrap_name = argv[4];
	o.target = argc == 6 ? argv[5] : "trusted_root.json";
	o.http = http;
	if ((error = tg_file_read((char **)&o.bootstrap, &o.bootstrap_len,
	                          argv[4], 1u << 20)) < 0) {
		tg_http_free(http);
		return fail(error);
	}
	rc = run(argv[1], &o);
	free((char *)o.bootstrap);
	tg_http_free(http);
	return rc;
}
