/*
 * HTTP client over libcurl (see include/tollgate/http.h).
 * Placeholder until the implementation lands: every call fails cleanly.
 */
#include "tollgate/http.h"

#include <stdlib.h>

#include "tollgate/error.h"

int tg_http_new(tg_http **out, const tg_http_options *opts)
{
	(void)opts;
	*out = NULL;
	return tg_error_set(TG_ERROR, "http: not implemented yet");
}

void tg_http_free(tg_http *http)
{
	(void)http;
}

int tg_http_submit(tg_http *http, const tg_http_request *req,
		   tg_http_done_fn done, void *ctx)
{
	(void)http;
	(void)req;
	(void)done;
	(void)ctx;
	return tg_error_set(TG_ERROR, "http: not implemented yet");
}

int tg_http_run(tg_http *http)
{
	(void)http;
	return tg_error_set(TG_ERROR, "http: not implemented yet");
}

int tg_http_request_sync(tg_http_response **out, tg_http *http,
			 const tg_http_request *req)
{
	(void)http;
	(void)req;
	*out = NULL;
	return tg_error_set(TG_ERROR, "http: not implemented yet");
}

const char *tg_http_response_header(const tg_http_response *resp,
				    const char *name)
{
	(void)resp;
	(void)name;
	return NULL;
}

void tg_http_response_free(tg_http_response *resp)
{
	(void)resp;
}

bool tg_http_host_is_insecure(const tg_http *http, const char *hostport)
{
	(void)http;
	(void)hostport;
	return false;
}

void tg_http_get_stats(tg_http_stats *out, const tg_http *http)
{
	(void)http;
	*out = (tg_http_stats){0};
}
