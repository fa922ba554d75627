/*
 * A validating JSON scanner for the ingest hot path.
 *
 * It accepts exactly what jansson's json_loadb(buf, len, JSON_ALLOW_NUL,
 * &err) accepts (strict RFC 8259, UTF-8 only, integers within int64, reals
 * that do not overflow a double, nesting at most jansson's limit), and
 * \u0000 in keys too, which RFC 8259 allows and jansson refuses. It builds
 * nothing: it reports where each record lies in the buffer and the value
 * of its top-level "type" member, which selects the hooks.
 */
#ifndef SPOOLD_JSCAN_H
#define SPOOLD_JSCAN_H

#include <stddef.h>

#define JSCAN_TYPE_MAX	64

struct jscan_rec {
	const char	*ptr;		/* the record's bytes, whitespace trimmed */
	size_t		 len;
	/*
	 * The top-level "type" member (the last one, as jansson keeps it),
	 * decoded: type_len bytes, then a NUL. A \u0000 in it is one of the
	 * type_len bytes, so compare with type_len, not as a C string.
	 */
	int		 type_state;	/* JSCAN_TYPE_* */
	size_t		 type_len;
	char		 type[JSCAN_TYPE_MAX];
};

#define JSCAN_TYPE_NONE		0	/* no top-level "type" member */
#define JSCAN_TYPE_STRING	1	/* type[] holds it */
#define JSCAN_TYPE_OTHER	2	/* not a string, or longer than type[] */

struct jscan_err {
	size_t		 index;		/* 0-based record number */
	size_t		 offset;	/* byte offset in the whole buffer */
	char		 msg[128];
};

/* Called for each record in order; nonzero stops the scan and is returned. */
typedef int (*jscan_cb)(void *arg, size_t index, const struct jscan_rec *);

/*
 * Is buf exactly one JSON document that jansson would load (with
 * JSON_ALLOW_NUL, and \u0000 in keys)? Returns 0 or -1 with err filled.
 * Used by the differential tests.
 */
int	jscan_document(const char *buf, size_t len, struct jscan_err *err);

/*
 * One record: a JSON object with optional surrounding whitespace.
 * Returns 0 and fills rec, or -1 with err filled (index 0).
 */
int	jscan_record(const char *buf, size_t len, struct jscan_rec *rec,
	    struct jscan_err *err);

/*
 * application/json body: either one object (one record) or an array of
 * objects (one record each). Returns 0, -1 with err (index of the first
 * bad record), or the callback's nonzero value.
 */
int	jscan_json_body(const char *buf, size_t len, jscan_cb cb, void *arg,
	    struct jscan_err *err);

/*
 * application/x-ndjson body: one object per line (LF or CRLF); lines of
 * only whitespace are skipped and do not count as records. Returns as
 * jscan_json_body.
 */
int	jscan_ndjson_body(const char *buf, size_t len, jscan_cb cb, void *arg,
	    struct jscan_err *err);

#endif
