/*
 * tollgate sigstore verify-bundle: the sigstore-conformance command-line
 * protocol over tg_bundle_verify().
 *
 *   tollgate sigstore verify-bundle --bundle FILE
 *       (--certificate-identity ID | --certificate-identity-regexp RE)
 *       (--certificate-oidc-issuer URL | --certificate-oidc-issuer-regexp RE)
 *       [--trusted-root FILE] FILE_OR_DIGEST
 *   tollgate sigstore verify-bundle --bundle FILE --key KEY
 *       [--trusted-root FILE] FILE_OR_DIGEST
 *
 * Exit 0 verified, 3 rejected, 1 unreadable input, 2 usage.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/bundle.h"
#include "tollgate/cli.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

typedef struct vb_args {
	tg_cli_common common;
	const char *bundle;
	const char *identity;
	const char *identity_re;
	const char *issuer;
	const char *issuer_re;
	const char *key;
	const char *root;
	const char *artifact;
} vb_args;

static void vb_usage(FILE *f)
{
	fputs("usage: tollgate sigstore verify-bundle --bundle FILE\n"
	      "         (--certificate-identity ID | "
	      "--certificate-identity-regexp RE)\n"
	      "         (--certificate-oidc-issuer URL | "
	      "--certificate-oidc-issuer-regexp RE)\n"
	      "         [--trusted-root FILE] FILE_OR_DIGEST\n"
	      "       tollgate sigstore verify-bundle --bundle FILE --key KEY "
	      "[--trusted-root FILE] FILE_OR_DIGEST\n",
	      f);
}

/* 1 when argv[*i] was one of our options, 0 when not, -1 on error. */
static int vb_option(vb_args *a, int argc, char **argv, int *i)
{
	static const struct {
		const char *name;
		size_t off;
	} opts[] = {
		{ "--bundle", offsetof(vb_args, bundle) },
		{ "--certificate-identity-regexp",
		  offsetof(vb_args, identity_re) },
		{ "--certificate-identity", offsetof(vb_args, identity) },
		{ "--certificate-oidc-issuer-regexp",
		  offsetof(vb_args, issuer_re) },
		{ "--certificate-oidc-issuer", offsetof(vb_args, issuer) },
		{ "--key", offsetof(vb_args, key) },
		{ "--trusted-root", offsetof(vb_args, root) },
	};
	size_t k;
	int r;

	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		const char **slot = (const char **)((char *)a + opts[k].off);

		if ((r = tg_cli_option_value(slot, opts[k].name, argc, argv,
		                             i)) != 0)
			return r;
	}
	return 0;
}

static int vb_parse(vb_args *a, int argc, char **argv)
{
	int i, r;

	for (i = 1; i < argc; i++) {
		if ((r = tg_cli_common_option(&a->common, argc, argv, &i)) ||
		    (r = vb_option(a, argc, argv, &i))) {
			if (r < 0)
				return -1;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "tollgate: unknown option \"%s\"\n",
			        argv[i]);
			return -1;
		}
		if (a->artifact) {
			fprintf(stderr, "tollgate: one artifact only\n");
			return -1;
		}
		a->artifact = argv[i];
	}
	if (!a->bundle || !a->artifact) {
		fprintf(stderr, "tollgate: --bundle and an artifact are "
		                "required\n");
		return -1;
	}
	if (!a->key && (!(a->identity || a->identity_re) ||
	                !(a->issuer || a->issuer_re))) {
		fprintf(stderr, "tollgate: give --key, or a certificate "
		                "identity and OIDC issuer\n");
		return -1;
	}
	return 0;
}

static void print_evidence(const vb_args *a, const tg_sigstore_evidence *ev)
{
	char it[21] = "", ts[21] = "";
	json_t *j;

	if (ev->integrated_time >= 0)
		tg_format_rfc3339(it, ev->integrated_time);
	if (ev->timestamp >= 0)
		tg_format_rfc3339(ts, ev->timestamp);
	if (a->common.output == TG_OUTPUT_JSON) {
		j = json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:s?, s:s?, s:s?, "
		              "s:s?}",
		              "verdict", "verified", "signer", ev->signer,
		              "issuer", ev->issuer, "logId", ev->log_id,
		              "logIndex", (json_int_t)ev->log_index,
		              "integratedTime", it[0] ? it : NULL, "timestamp",
		              ts[0] ? ts : NULL, "payloadType",
		              ev->payload_type, "predicateType",
		              ev->predicate_type);
		if (j) {
			json_dumpf(j, stdout, JSON_COMPACT);
			fputc('\n', stdout);
		}
		json_decref(j);
		return;
	}
	printf("verified: %s\n", a->bundle);
	printf("  signer: %s\n", ev->signer);
	if (ev->issuer)
		printf("  issuer: %s\n", ev->issuer);
	if (ev->log_index >= 0)
		printf("  rekor log index: %lld\n", (long long)ev->log_index);
	if (it[0])
		printf("  integrated time: %s\n", it);
	if (ts[0])
		printf("  timestamp: %s\n", ts);
	if (ev->predicate_type)
		printf("  predicate: %s\n", ev->predicate_type);
}

/* Load what the verification needs; 0 or an exit code. */
static int vb_load(const vb_args *a,
                   tg_trustroot **root,
                   tg_key **key,
                   char **bundle,
                   size_t *bundle_len,
                   char **data,
                   size_t *data_len)
{
	int error;

	if ((error = a->root ? tg_trustroot_load_file(root, a->root)
	                     : tg_trustroot_default(root)) < 0 ||
	    (a->key && (error = tg_key_load_file(key, a->key)) < 0) ||
	    (error = tg_file_read(bundle, bundle_len, a->bundle,
	                          TG_MAX_BLOB_BYTES)) < 0)
		goto fail;
	if (!tg_digest_is_valid(a->artifact) &&
	    (error = tg_file_read(data, data_len, a->artifact,
	                          TG_MAX_BLOB_BYTES)) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "tollgate: %s\n", tg_error_last());
	/* A trust root or key that does not parse rejects, as the
	 * conformance suite expects; unreadable files are I/O errors. */
	return error == TG_EIO || error == TG_ENOTFOUND ? TG_EXIT_ERROR
	                                                : TG_EXIT_BLOCKED;
}

static int verify_bundle(int argc, char **argv)
{
	tg_keyless_policy kp;
	tg_sigstore_policy pol;
	tg_sigstore_evidence *ev = NULL;
	tg_trustroot *root = NULL;
	tg_key *key = NULL;
	tg_artifact art;
	char *bundle = NULL, *data = NULL;
	size_t bundle_len = 0, data_len = 0;
	vb_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&kp, 0, sizeof(kp));
	memset(&pol, 0, sizeof(pol));
	memset(&art, 0, sizeof(art));
	if (vb_parse(&a, argc, argv) < 0) {
		vb_usage(stderr);
		return TG_EXIT_USAGE;
	}
	if ((rc = vb_load(&a, &root, &key, &bundle, &bundle_len, &data,
	                  &data_len)) != 0)
		goto out;
	kp.subject = a.identity;
	kp.subject_regexp = a.identity_re;
	kp.issuer = a.issuer;
	kp.issuer_regexp = a.issuer_re;
	/* Demand an SCT whenever the trust root names CT logs, as
	 * sigstore clients do. */
	kp.require_sct = tg_trustroot_ctlog_count(root) > 0;
	pol.root = root;
	pol.key = key;
	pol.keyless = key ? NULL : &kp;
	art.data = (const unsigned char *)data;
	art.len = data_len;
	art.digest = data ? NULL : a.artifact;
	if (tg_bundle_verify(&ev, a.bundle, bundle, bundle_len, &art, &pol) <
	    0) {
		fprintf(stderr, "tollgate: rejected: %s\n", tg_error_last());
		rc = TG_EXIT_BLOCKED;
		goto out;
	}
	print_evidence(&a, ev);
	rc = TG_EXIT_OK;
out:
	tg_sigstore_evidence_free(ev);
	tg_trustroot_free(root);
	tg_key_free(key);
	free(bundle);
	free(data);
	return rc;
}

int tg_cmd_sigstore(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "verify-bundle"))
		return verify_bundle(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		vb_usage(stdout);
		return TG_EXIT_OK;
	}
	fprintf(stderr, "tollgate: sigstore: unknown or missing subcommand; "
	                "the only one is verify-bundle\n");
	vb_usage(stderr);
	return TG_EXIT_USAGE;
}
