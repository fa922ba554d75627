/*
 * Standard Webhooks signing (https://www.standardwebhooks.com): the
 * signed content is the message id, the timestamp and the body joined by
 * dots; the signature is the base64 of its HMAC-SHA256 under the secret's
 * decoded key, versioned "v1,".
 *
 * The HMAC runs over the three parts in turn, so that the body, which may
 * be large, is never copied.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sign.h"

void
sign_msgid(char *buf, size_t size, uint64_t first_id, uint32_t n)
{
	snprintf(buf, size, "msg_%016" PRIx64 "_%" PRIu32, first_id, n);
}

static int
mac_update(EVP_MAC_CTX *ctx, const void *p, size_t len)
{
	return EVP_MAC_update(ctx, p, len) == 1 ? 0 : -1;
}

int
sign_signature(const unsigned char *key, size_t keylen, const char *msgid,
    long long timestamp, const char *body, size_t len, char *sig,
    size_t siglen)
{
	EVP_MAC		*mac = NULL;
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	char		 ts[32];
	size_t		 mdlen;
	int		 rv = -1;

	if (siglen < SIGN_SIG_MAX)
		return -1;
	snprintf(ts, sizeof(ts), ".%lld.", timestamp);
	params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto fail;
	if (mac_update(ctx, msgid, strlen(msgid)) == -1 ||
	    mac_update(ctx, ts, strlen(ts)) == -1 ||
	    mac_update(ctx, body, len) == -1 ||
	    EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) != 1 || mdlen != 32)
		goto fail;
	memcpy(sig, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)sig + 3, md, (int)mdlen);
	rv = 0;
fail:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rv;
}

int
sign_headers(const unsigned char *key, size_t keylen, uint64_t first_id,
    uint32_t n, const char *body, size_t len, struct sign_headers *sh)
{
	long long	 ts = (long long)time(NULL);

	sign_msgid(sh->id, sizeof(sh->id), first_id, n);
	snprintf(sh->ts, sizeof(sh->ts), "%lld", ts);
	return sign_signature(key, keylen, sh->id, ts, body, len, sh->sig,
	    sizeof(sh->sig));
}
