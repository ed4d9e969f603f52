/*
 * IKEv2 AUTH payload values (RFC 7296 §2.15). What each side signs:
 *
 *   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
 *   ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
 *   MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
 *   MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
 *
 * RealMessage1/2: the IKE_SA_INIT request / response exactly as sent (the
 * last one, after INVALID_KE_PAYLOAD or COOKIE retries); Nonce*Data: the
 * peer's nonce without the payload header; RestOf*IDPayload: the ID payload
 * after its generic header (ID Type, three RESERVED bytes, data).
 *
 * With a shared key:
 *
 *   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 *
 * computed with the IKE SA's prf, incrementally (RealMessage is not copied).
 * Digital signatures (methods 1, 9-11, 14) will sign the same octets.
 */
#ifndef TUNSEC_IKE_AUTH_H
#define TUNSEC_IKE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/prf.h"

/* §2.15: the 17 ASCII bytes, no terminating NUL. */
#define IKE_AUTH_KEY_PAD     "Key Pad for IKEv2"
#define IKE_AUTH_KEY_PAD_LEN 17

/* The parts of one side's signed octets (all borrowed). */
struct ike_auth_octets {
	const uint8_t *real_msg; /* RealMessage1 or 2 */
	size_t real_msg_len;
	const uint8_t *nonce; /* the other side's nonce */
	size_t nonce_len;
	const uint8_t *sk_p; /* SK_pi (initiator) or SK_pr (responder) */
	size_t sk_p_len;
	const uint8_t *id_body; /* RestOf*IDPayload */
	size_t id_body_len;
};

/*
 * MACedIDFor{I,R} = prf(sk_p, id_body) into out (prf_out_len(prf) bytes).
 * 0 or -EINVAL (unsupported prf, NULL).
 */
int ike_auth_maced_id(int prf, const struct ike_auth_octets *o, uint8_t *out);

/*
 * The signed octets written out in full to buf (for signature methods and
 * tests). Returns their length, or -EINVAL (NULL, bad prf), -ENOSPC.
 */
int ike_auth_signed_octets(int prf, const struct ike_auth_octets *o, uint8_t *buf, size_t cap);

/*
 * PSK AUTH data (method 2) into out (prf_out_len(prf) bytes): 0, or
 * -EINVAL (unsupported prf, empty PSK, NULL). Every intermediate is wiped.
 */
int ike_auth_psk(int prf, const uint8_t *psk, size_t psk_len, const struct ike_auth_octets *o,
                 uint8_t *out);

/*
 * Check received PSK AUTH data against the expected value in constant time
 * (length first, which is public: the prf's). true if it matches; false
 * also for any argument error.
 */
bool ike_auth_psk_verify(int prf, const uint8_t *psk, size_t psk_len,
                         const struct ike_auth_octets *o, const uint8_t *got, size_t got_len);

#endif
