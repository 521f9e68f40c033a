/*
 * Object checks and server-owned metadata: names, kind and apiVersion
 * against the URL, uid, creationTimestamp, generation, resourceVersion.
 */
#include <stdio.h>
#include <string.h>

#include <sys/random.h>

#include <openssl/rand.h>

#include "tc.h"
#include "tollgate/util.h"

/* RFC 1123 names (k8s.io/apimachinery/pkg/util/validation). */
#define TC_DNS1123_LABEL_MAX 63
#define TC_DNS1123_SUBDOMAIN_MAX 253

static const char msg_subdomain[] =
        "a lowercase RFC 1123 subdomain must consist of lower case "
        "alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
        "[a-z0-9])?)*')";
static const char msg_label[] =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric "
        "characters or '-', and must start and end with an alphanumeric "
        "character (e.g. 'my-name',  or '123-abc', regex used for validation "
        "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const char *tc_obj_name(json_t *obj)
{
	return json_string_value(
	        json_object_get(json_object_get(obj, "metadata"), "name"));
}

const char *tc_obj_ns(json_t *obj)
{
	return json_string_value(
	        json_object_get(json_object_get(obj, "metadata"), "namespace"));
}

void tc_now_str(char out[21])
{
	tg_format_rfc3339(out, tg_now());
}

static bool is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One label of [a-z0-9]([-a-z0-9]*[a-z0-9])? spanning s[0..n). */
static bool label_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!is_alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool subdomain_ok(const char *s)
{
	const char *p = s, *dot;

	for (;;) {
		dot = strchr(p, '.');
		if (dot == NULL)
			return label_ok(p, strlen(p));
		if (!label_ok(p, (size_t)(dot - p)))
			return false;
		p = dot + 1;
	}
}

/* 0, or answers 422 the way ValidateObjectMeta words it. */
static int name_check(const tc_type *t, const char *name, tc_resp *resp)
{
	bool label = (t->flags & TC_T_DNS_LABEL) != 0;
	size_t max = label ? TC_DNS1123_LABEL_MAX : TC_DNS1123_SUBDOMAIN_MAX;
	char detail[1024];

	if (name == NULL || name[0] == '\0') {
		tc_status_invalid(resp, t, "", "metadata.name",
		                  "FieldValueRequired",
		                  "Required value: name or generateName is "
		                  "required");
		return -1;
	}
	if (strlen(name) > max) {
		snprintf(detail, sizeof(detail),
		         "Invalid value: \"%.300s\": must be no more than %zu "
		         "characters",
		         name, max);
	} else if (label ? label_ok(name, strlen(name)) : subdomain_ok(name)) {
		return 0;
	} else {
		snprintf(detail, sizeof(detail),
		         "Invalid value: \"%.300s\": %s", name,
		         label ? msg_label : msg_subdomain);
	}
	tc_status_invalid(resp, t, name, "metadata.name", "FieldValueInvalid",
	                  detail);
	return -1;
}

/* generateName: the prefix plus five random characters. */
static void generate_name(json_t *meta)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	const char *prefix =
	        json_string_value(json_object_get(meta, "generateName"));
	unsigned char rnd[5];
	char suffix[6];
	size_t i;
	char *name;

	if (prefix == NULL || json_object_get(meta, "name") != NULL)
		return;
	RAND_bytes(rnd, sizeof(rnd));
	for (i = 0; i < 5; i++)
		suffix[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	suffix[5] = '\0';
	name = tg_aprintf("%s%s", prefix, suffix);
	json_object_set_new(meta, "name", json_string(name));
	free(name);
}

static int type_meta_check(const tc_type *t, json_t *obj, tc_resp *resp)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	char *want = tc_type_api_version(t);
	int rc = 0;

	/* Built-in types default kind and apiVersion from the URL (typed
	 * clients such as python's leave them out); custom resources
	 * need both. */
	if (!(t->flags & TC_T_CRD) && av == NULL) {
		json_object_set_new(obj, "apiVersion", json_string(want));
		av = want;
	}
	if (!(t->flags & TC_T_CRD) && kind == NULL) {
		json_object_set_new(obj, "kind", json_string(t->kind));
		kind = t->kind;
	}
	if (av == NULL || kind == NULL) {
		tc_status_bad_request(resp, "Object 'Kind' is missing in the "
		                            "request body");
		rc = -1;
	} else if (strcmp(av, want) != 0) {
		tc_status_bad_request(resp,
		                      "the API version in the data (%s) does "
		                      "not match the expected API version (%s)",
		                      av, want);
		rc = -1;
	} else if (strcmp(kind, t->kind) != 0) {
		char detail[512];

		snprintf(detail, sizeof(detail),
		         "Invalid value: \"%.100s\": must be %s", kind,
		         t->kind);
		tc_status_invalid(resp, t, tc_obj_name(obj), "kind",
		                  "FieldValueInvalid", detail);
		rc = -1;
	}
	free(want);
	return rc;
}

static int url_match_check(const tc_target *tg, json_t *obj, tc_resp *resp)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *name = tc_obj_name(obj);
	const char *ns = tc_obj_ns(obj);

	if (tg->name != NULL && name != NULL && strcmp(tg->name, name) != 0) {
		tc_status_bad_request(resp,
		                      "the name of the object (%s) does not "
		                      "match the name on the URL (%s)",
		                      name, tg->name);
		return -1;
	}
	if (tg->name != NULL && name == NULL)
		json_object_set_new(meta, "name", json_string(tg->name));
	if (!(tg->type->flags & TC_T_NAMESPACED)) {
		json_object_del(meta, "namespace");
		return 0;
	}
	if (ns != NULL && ns[0] != '\0' && strcmp(ns, tg->ns) != 0) {
		tc_status_bad_request(resp,
		                      "the namespace of the provided object "
		                      "does not match the namespace sent on "
		                      "the request");
		return -1;
	}
	json_object_set_new(meta, "namespace", json_string(tg->ns));
	return 0;
}

/*
 * Secrets as kube-apiserver stores them: stringData is write-only, merged
 * into data (base64) and never returned; type defaults to Opaque.
 */
static void secret_normalise(const tc_type *t, json_t *obj)
{
	json_t *sd = json_object_get(obj, "stringData"), *data, *v;
	const char *key;

	if (t->group[0] || strcmp(t->kind, "Secret") != 0)
		return;
	if (!json_is_string(json_object_get(obj, "type")))
		json_object_set_new(obj, "type", json_string("Opaque"));
	if (!json_is_object(sd))
		return;
	data = json_object_get(obj, "data");
	if (!json_is_object(data)) {
		data = json_object();
		json_object_set_new(obj, "data", data);
	}
	json_object_foreach(sd, key, v) {
		const char *s = json_string_value(v);
		char *enc;

		if (!s)
			continue;
		enc = tg_base64_encode((const unsigned char *)s, strlen(s));
		json_object_set_new(data, key, json_string(enc));
		free(enc);
	}
	json_object_del(obj, "stringData");
}

int tc_obj_validate(const tc_type *t,
                    const tc_target *tg,
                    json_t *obj,
                    tc_resp *resp)
{
	json_t *meta = json_object_get(obj, "metadata");

	if (meta == NULL) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	if (!json_is_object(meta)) {
		tc_status_bad_request(resp, "metadata must be an object");
		return -1;
	}
	if (type_meta_check(t, obj, resp) < 0)
		return -1;
	generate_name(meta);
	if (url_match_check(tg, obj, resp) < 0)
		return -1;
	if (name_check(t, tc_obj_name(obj), resp) < 0)
		return -1;
	secret_normalise(t, obj);
	return 0;
}

/* A random (version 4) UUID, from getrandom(2): OpenSSL's generator
 * took 4% of the server's CPU while 10,000 objects were created. */
static void uuid_new(char out[37])
{
	unsigned char b[16];
	char hex[33];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		RAND_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	tg_hex_encode(hex, b, sizeof(b));
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
	         hex + 16, hex + 20);
}

void tc_obj_init_meta(tc_state *st,
                      const tc_type *t,
                      const tc_target *tg,
                      json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	char uid[37], now[21];

	(void)st;
	(void)tg;
	uuid_new(uid);
	tc_now_str(now);
	json_object_set_new(meta, "uid", json_string(uid));
	json_object_set_new(meta, "creationTimestamp", json_string(now));
	json_object_del(meta, "resourceVersion");
	json_object_del(meta, "deletionTimestamp");
	json_object_del(meta, "selfLink");
	if (t->flags & TC_T_GENERATION)
		json_object_set_new(meta, "generation", json_integer(1));
	else
		json_object_del(meta, "generation");
	if (strcmp(t->resource, "namespaces") == 0)
		json_object_set_new(obj, "status",
		                    json_pack("{s:s}", "phase", "Active"));
}

/* True when anything but metadata and status differs: what bumps
 * metadata.generation for the types that track it. */
static bool spec_changed(json_t *old, json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		if (strcmp(key, "metadata") == 0 || strcmp(key, "status") == 0)
			continue;
		if (!json_equal(v, json_object_get(old, key)))
			return true;
	}
	json_object_foreach(old, key, v) {
		if (strcmp(key, "metadata") == 0 || strcmp(key, "status") == 0)
			continue;
		if (json_object_get(obj, key) == NULL)
			return true;
	}
	return false;
}

json_t *tc_obj_next(json_t *obj)
{
	json_t *next = json_copy(obj);
	json_t *meta = json_object_get(obj, "metadata");

	if (json_is_object(meta))
		json_object_set_new(next, "metadata", json_copy(meta));
	return next;
}

void tc_obj_carry_meta(const tc_type *t, json_t *old, json_t *obj)
{
	json_t *om = json_object_get(old, "metadata");
	json_t *nm = json_object_get(obj, "metadata");
	static const char *const kept[] = { "uid", "creationTimestamp",
		                            "generation", "deletionTimestamp" };
	size_t i;
	json_int_t gen;

	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		json_t *v = json_object_get(om, kept[i]);

		if (v != NULL)
			json_object_set(nm, kept[i], v);
		else
			json_object_del(nm, kept[i]);
	}
	/* The main resource of a type with a status subresource ignores
	 * status; kube-apiserver's strategies reset it the same way. */
	if (t->flags & TC_T_STATUS) {
		json_t *s = json_object_get(old, "status");

		if (s != NULL)
			json_object_set(obj, "status", s);
		else
			json_object_del(obj, "status");
	}
	if ((t->flags & TC_T_GENERATION) && spec_changed(old, obj)) {
		gen = json_integer_value(json_object_get(om, "generation"));
		json_object_set_new(nm, "generation", json_integer(gen + 1));
	}
}

void tc_obj_commit(tc_state *st,
                   const tc_req *req,
                   const tc_type *t,
                   json_t *obj,
                   bool created,
                   tc_resp *resp)
{
	if (tc_req_dry_run(req)) {
		/* A dry run answers what would be stored, without a new
		 * resourceVersion (the old one stays, or none on create). */
		tc_resp_json(resp, created ? 201 : 200, obj);
		return;
	}
	tc_store_put(st, t, obj, created ? "ADDED" : "MODIFIED");
	tc_resp_json(resp, created ? 201 : 200, obj);
}
