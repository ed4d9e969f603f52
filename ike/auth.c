/* IKEv2 AUTH values (RFC 7296 §2.15); see auth.h. */
#include "ike/auth.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "crypto/hmac.h"

static bool octets_ok(const struct ike_auth_octets *o)
{
	return o && (o->real_msg || !o->real_msg_len) && (o->nonce || !o->nonce_len) && o->sk_p &&
	       o->sk_p_len && (o->id_body || !o->id_body_len);
}

int ike_auth_maced_id(int prf, const struct ike_auth_octets *o, uint8_t *out)
{
	if (!octets_ok(o) || !out || prf_out_len(prf) == 0)
		return -EINVAL;
	return prf_compute(prf, o->sk_p, o->sk_p_len, o->id_body, o->id_body_len, out) < 0 ? -EINVAL
	                                                                                   : 0;
}

int ike_auth_signed_octets(int prf, const struct ike_auth_octets *o, uint8_t *buf, size_t cap)
{
	size_t mlen = prf_out_len(prf), total;

	if (!octets_ok(o) || !buf || mlen == 0)
		return -EINVAL;
	total = o->real_msg_len + o->nonce_len + mlen;
	if (total > cap || total > INT32_MAX)
		return -ENOSPC;
	if (o->real_msg_len)
		memcpy(buf, o->real_msg, o->real_msg_len);
	if (o->nonce_len)
		memcpy(buf + o->real_msg_len, o->nonce, o->nonce_len);
	if (ike_auth_maced_id(prf, o, buf + o->real_msg_len + o->nonce_len) < 0)
		return -EINVAL;
	return (int)total;
}

int ike_auth_psk(int prf, const uint8_t *psk, size_t psk_len, const struct ike_auth_octets *o,
                 uint8_t *out)
{
	uint8_t pad_key[PRF_MAX_OUT], maced[PRF_MAX_OUT];
	size_t mlen = prf_out_len(prf);
	struct hmac h;
	int rc = -EINVAL;

	if (!psk || psk_len == 0 || !out || mlen == 0 || !octets_ok(o))
		return -EINVAL;
	/* prf(Shared Secret, "Key Pad for IKEv2") keys the outer prf. */
	if (prf_compute(prf, psk, psk_len, (const uint8_t *)IKE_AUTH_KEY_PAD, IKE_AUTH_KEY_PAD_LEN,
	                pad_key) < 0)
		goto out;
	if (ike_auth_maced_id(prf, o, maced) < 0)
		goto out;
	if (hmac_init(&h, prf, pad_key, mlen) < 0)
		goto out;
	hmac_start(&h);
	hmac_update(&h, o->real_msg, o->real_msg_len);
	hmac_update(&h, o->nonce, o->nonce_len);
	hmac_update(&h, maced, mlen);
	hmac_finish(&h, out);
	hmac_wipe(&h);
	rc = 0;
out:
	sodium_memzero(pad_key, sizeof(pad_key));
	sodium_memzero(maced, sizeof(maced));
	return rc;
}

bool ike_auth_psk_verify(int prf, const uint8_t *psk, size_t psk_len,
                         const struct ike_auth_octets *o, const uint8_t *got, size_t got_len)
{
	uint8_t want[PRF_MAX_OUT];
	size_t mlen = prf_out_len(prf);
	bool ok;

	if (!got || mlen == 0 || got_len != mlen)
		return false;
	if (ike_auth_psk(prf, psk, psk_len, o, want) < 0)
		return false;
	ok = sodium_memcmp(want, got, mlen) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}
