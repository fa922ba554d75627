/*
 * Standard Webhooks request signing.
 */
#ifndef SPOOLD_SIGN_H
#define SPOOLD_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define SIGN_ID_MAX	40	/* "msg_" 16 hex "_" count, NUL */
/* "v1," and the base64 of a SHA-256 digest, NUL */
#define SIGN_SIG_MAX	(3 + 44 + 1)

/*
 * The webhook-id of a batch: the same records in the same request get the
 * same id on every attempt, so that receivers can drop duplicates.
 */
void	sign_msgid(char *, size_t, uint64_t first_id, uint32_t n);

/*
 * "v1," BASE64(HMAC-SHA256(key, "ID.TIMESTAMP.BODY")) into sig (at least
 * SIGN_SIG_MAX bytes). Returns 0 or -1.
 */
int	sign_signature(const unsigned char *key, size_t keylen,
	    const char *msgid, long long timestamp, const char *body,
	    size_t len, char *sig, size_t siglen);

/* The values of the webhook-id, webhook-timestamp and webhook-signature. */
struct sign_headers {
	char		 id[SIGN_ID_MAX];
	char		 ts[24];
	char		 sig[SIGN_SIG_MAX];
};

/*
 * Signs body, which holds n records from first_id on, now: 0, or -1
 * when it cannot.
 */
int	sign_headers(const unsigned char *key, size_t keylen,
	    uint64_t first_id, uint32_t n, const char *body, size_t len,
	    struct sign_headers *);

#endif
