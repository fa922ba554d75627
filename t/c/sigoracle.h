/*
 * OpenSSL's HMAC() as the oracle of the webhook signatures, for the
 * signing and worker tests (sigoracle.c).
 */
#ifndef SPOOLD_SIGORACLE_H
#define SPOOLD_SIGORACLE_H

#include <stddef.h>

/* out holds at least 48 bytes: "v1," and a SHA-256 in base64. */
void	 expect_sig(const unsigned char *, size_t, const char *, long long,
	    const char *, char *);

#endif
