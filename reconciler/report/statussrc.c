/*
 * The source commit's signature verdict (the status document's "commit"
 * entry, policy commits:) in the status commit message, the note and
 * STATUS.md. Text from the commit (names, e-mails, reasons) is cleaned
 * by tg_statusdoc_put_line / _put_md before it is written.
 */
#include <string.h>

#include "statusdoc_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/status.h"

bool tg_statusdoc_source_blocked(const json_t *doc)
{
	const char *v = str_of(json_object_get(doc, "commit"), "verdict");

	return v && !strcmp(v, "blocked");
}

int tg_statusdoc_put_source_subject(tg_buf *b, const json_t *doc)
{
	return tg_buf_printf(b,
	                     "blocked: source %.7s (not signed by a trusted "
	                     "signer)",
	                     str_of(doc, "sourceCommit"));
}

/* "  Key: value\n" with value cleaned onto one line. */
static int put_field(tg_buf *b, const char *key, const char *value)
{
	int error;

	if (!value)
		return 0;
	if ((error = tg_buf_printf(b, "  %s: ", key)) < 0 ||
	    (error = tg_statusdoc_put_line(b, value, TG_MAX_SIGNER_DESC)) < 0)
		return error;
	return tg_buf_puts(b, "\n");
}

/* "ssh ed25519 SHA256:... (alice@example.com)" or "none". */
static int put_signature(tg_buf *b, const json_t *c)
{
	const json_t *sig = json_object_get(c, "signature");
	int error;

	if ((error = tg_buf_puts(b, "  Signature: ")) < 0)
		return error;
	if (!sig)
		return tg_buf_puts(b, "none found\n");
	if ((error = tg_statusdoc_put_line(b, str_of(sig, "format"), 16)) < 0 ||
	    (error = tg_buf_puts(b, " ")) < 0 ||
	    (error = tg_statusdoc_put_line(b, str_of(sig, "key"),
	                                   TG_MAX_SIGNER_DESC)) < 0)
		return error;
	if (str_of(sig, "principal") &&
	    ((error = tg_buf_puts(b, " (")) < 0 ||
	     (error = tg_statusdoc_put_line(b, str_of(sig, "principal"),
	                                    TG_MAX_SIGNER_DESC)) < 0 ||
	     (error = tg_buf_puts(b, ")")) < 0))
		return error;
	return tg_buf_puts(b, "\n");
}

static int put_commit(tg_buf *b, const json_t *c)
{
	int error;

	if ((error = tg_buf_printf(b, "- commit %s\n", str_of(c, "commit"))) <
	            0 ||
	    (error = put_field(b, "Author", str_of(c, "author"))) < 0 ||
	    (error = put_field(b, "Committer", str_of(c, "committer"))) < 0 ||
	    (error = put_signature(b, c)) < 0)
		return error;
	return put_field(b, "Why it does not count", str_of(c, "reason"));
}

int tg_statusdoc_put_source_body(tg_buf *b, const json_t *doc)
{
	const json_t *c = json_object_get(doc, "commit");
	const json_t *failed = json_object_get(c, "failedCommit");
	const char *kept = str_of(c, "deployedCommit");
	int error;

	if (!tg_statusdoc_source_blocked(doc))
		return 0;
	if ((error = tg_buf_puts(b, "Source commit not deployed:\n")) < 0 ||
	    (error = put_commit(b, c)) < 0 ||
	    (failed && (error = put_commit(b, failed)) < 0))
		return error;
	if (kept)
		return tg_buf_printf(b,
		                     "\nThe cluster keeps the content of %s, "
		                     "the last verified commit.\n\n",
		                     kept);
	return tg_buf_puts(b, "\nNo commit was verified yet: nothing is "
	                      "applied.\n\n");
}

int tg_statusdoc_put_source_trailers(tg_buf *b, const json_t *doc)
{
	const char *by = str_of(json_object_get(doc, "commit"), "signedBy");
	int error;

	if (tg_statusdoc_source_blocked(doc))
		return tg_buf_puts(b, "Tollgate-Verdict: blocked\n");
	if (!by)
		return 0;
	if ((error = tg_buf_puts(b, "Signed-By: ")) < 0 ||
	    (error = tg_statusdoc_put_line(b, by, TG_MAX_SIGNER_DESC)) < 0)
		return error;
	return tg_buf_puts(b, "\n");
}

int tg_statusdoc_put_source_note(tg_buf *b, const json_t *doc)
{
	const json_t *c = json_object_get(doc, "commit");
	int error;

	if (!c)
		return 0;
	if (!tg_statusdoc_source_blocked(doc)) {
		if ((error = tg_buf_puts(b, "source: signed by ")) < 0 ||
		    (error = tg_statusdoc_put_line(b, str_of(c, "signedBy"),
		                                   TG_MAX_SIGNER_DESC)) < 0)
			return error;
		return tg_buf_puts(b, "\n");
	}
	if ((error = tg_buf_puts(b, "source: blocked (not signed by a "
	                            "trusted signer: ")) < 0 ||
	    (error = tg_statusdoc_put_line(b, str_of(c, "reason"),
	                                   TG_STATUS_REASON_BYTES)) < 0)
		return error;
	return tg_buf_puts(b, ")\n");
}

int tg_statusdoc_put_source_md(tg_buf *b, const json_t *doc)
{
	const json_t *c = json_object_get(doc, "commit");
	bool blocked = tg_statusdoc_source_blocked(doc);
	int error;

	if (!c)
		return 0;
	if ((error = tg_buf_puts(b, blocked ? "**Source commit blocked**: "
	                                    : "Signed by ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, blocked ? str_of(c, "reason")
	                                            : str_of(c, "signedBy"))) <
	            0)
		return error;
	if (blocked && str_of(c, "deployedCommit"))
		return tg_buf_printf(b,
		                     ". The cluster keeps `%s`, the last "
		                     "verified commit.\n\n",
		                     str_of(c, "deployedCommit"));
	return tg_buf_puts(b, blocked ? ". Nothing is applied.\n\n" : ".\n\n");
}
