/*
 * Standard Webhooks signatures (workers/sign.c): the specification's
 * example, message ids, and batches against HMAC() over the documented
 * string.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "sigoracle.h"
#include "sign.h"
#include "tap.h"

static void
test_sign(void)
{
	const char	*b64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	const char	*body = "{\"test\": 2432232314}";
	unsigned char	 key[64];
	char		 sig[SIGN_SIG_MAX], want[64], id[SIGN_ID_MAX];
	int		 keylen;

	keylen = EVP_DecodeBlock(key, (const unsigned char *)b64,
	    (int)strlen(b64));
	ok(sign_signature(key, (size_t)keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek",
	    1614265330, body, strlen(body), sig, sizeof(sig)) == 0,
	    "sign: Standard Webhooks example signed");
	is_str(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "sign: Standard Webhooks example signature");

	sign_msgid(id, sizeof(id), 0xa1, 1);
	is_str(id, "msg_00000000000000a1_1", "sign: webhook-id");
	sign_msgid(id, sizeof(id), UINT64_MAX, 4294967295U);
	is_str(id, "msg_ffffffffffffffff_4294967295", "sign: longest id");

	body = "[{\"a\":1},{\"b\":\"\xc3\xa9\"}]";
	sign_msgid(id, sizeof(id), 0x1234, 2);
	expect_sig((const unsigned char *)"k3y", 3, id, 1700000000, body,
	    want);
	ok(sign_signature((const unsigned char *)"k3y", 3, id, 1700000000,
	    body, strlen(body), sig, sizeof(sig)) == 0, "sign: batch signed");
	is_str(sig, want, "sign: same as HMAC() over ID.TIMESTAMP.BODY");
	ok(sign_signature(key, 3, id, 1, body, 1, sig, 10) == -1,
	    "sign: short buffer refused");
}

int
main(void)
{
	test_sign();
	return done_testing();
}
