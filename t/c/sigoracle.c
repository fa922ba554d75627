/*
 * OpenSSL's HMAC() as the oracle of the webhook signatures
 * (workers/sign.c), computed over the string the specification
 * documents, ID.TIMESTAMP.BODY, built whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigoracle.h"

/* The signature of body, "v1," and the base64 of the HMAC, into out. */
void
expect_sig(const unsigned char *key, size_t keylen, const char *id,
    long long ts, const char *body, char *out)
{
	unsigned char	 md[32];
	unsigned int	 mdlen = sizeof(md);
	char		*msg;
	int		 n;

	n = asprintf(&msg, "%s.%lld.%s", id, ts, body);
	HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)msg, (size_t)n,
	    md, &mdlen);
	free(msg);
	strcpy(out, "v1,");
	EVP_EncodeBlock((unsigned char *)out + 3, md, (int)mdlen);
}
