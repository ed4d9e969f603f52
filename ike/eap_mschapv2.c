/* EAP-MSCHAPv2, both roles; see eap_mschapv2.h. */
#include "ike/eap_mschapv2.h"

#include <string.h>

#include <mbedtls/des.h>
#include <sodium.h>

#include "crypto/mbedtls_compat.h"
#include "ike/wire.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 || !defined(MBEDTLS_MD4_C) || !defined(MBEDTLS_DES_C)
#error "EAP-MSCHAPv2 needs MD4 and DES: mbedTLS 2.x built with MBEDTLS_MD4_C and MBEDTLS_DES_C"
#endif
#include <mbedtls/md4.h>

/* OpCode, MS-CHAPv2-ID, MS-Length */
#define MS_HDR 4
/* Our Success and Failure Request messages fit in this much (66, 72). */
#define MS_MSG_MAX 96

/* ---- RFC 2759 §8 --------------------------------------------------------- */

static void sha1_parts(uint8_t out[20], const void *a, size_t alen, const void *b, size_t blen,
                       const void *c, size_t clen, const void *d, size_t dlen)
{
	mbedtls_sha1_context ctx;

	mbedtls_sha1_init(&ctx);
	compat_sha1_starts(&ctx);
	compat_sha1_update(&ctx, a, alen);
	compat_sha1_update(&ctx, b, blen);
	compat_sha1_update(&ctx, c, clen);
	if (dlen)
		compat_sha1_update(&ctx, d, dlen);
	compat_sha1_finish(&ctx, out);
	mbedtls_sha1_free(&ctx); /* zeroizes */
}

/*
 * UTF-8 to UTF-16LE, strictly: overlong forms, surrogates and code points
 * past U+10FFFF are refused rather than guessed at, since a password that
 * decodes two ways would hash two ways. Returns the byte length or
 * IKE_ERR_INVAL (bad UTF-8, more than max UTF-16 units).
 */
static int utf8_to_utf16le(const uint8_t *s, size_t len, uint8_t *out, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len) {
		uint32_t c = s[i], min;
		size_t more;

		if (c < 0x80) {
			more = 0, min = 0;
		} else if ((c & 0xe0) == 0xc0) {
			more = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3, min = 0x10000, c &= 0x07;
		} else {
			return IKE_ERR_INVAL;
		}
		if (more > len - i - 1)
			return IKE_ERR_INVAL;
		for (size_t k = 1; k <= more; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return IKE_ERR_INVAL;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		i += 1 + more;
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return IKE_ERR_INVAL;
		if (c >= 0x10000) {
			/* A surrogate pair; the low half is written below. */
			uint32_t hi = 0xd800 | (c - 0x10000) >> 10;

			if (n + 2 > max)
				return IKE_ERR_INVAL;
			out[2 * n] = (uint8_t)hi;
			out[2 * n + 1] = (uint8_t)(hi >> 8);
			n++;
			c = 0xdc00 | ((c - 0x10000) & 0x3ff);
		}
		if (n + 1 > max)
			return IKE_ERR_INVAL;
		out[2 * n] = (uint8_t)c;
		out[2 * n + 1] = (uint8_t)(c >> 8);
		n++;
	}
	return (int)(2 * n);
}

int eap_mschapv2_nt_hash(const uint8_t *password, size_t len,
                         uint8_t hash[static MSCHAPV2_NT_HASH_LEN])
{
	uint8_t u16[2 * MSCHAPV2_PASSWORD_MAX];
	int n = utf8_to_utf16le(password, len, u16, MSCHAPV2_PASSWORD_MAX);

	if (n >= 0)
		mbedtls_md4_ret(u16, (size_t)n, hash);
	sodium_memzero(u16, sizeof(u16));
	return n < 0 ? n : IKE_OK;
}

int eap_mschapv2_secret_hash(const struct eap_mschapv2_secret *sec,
                             uint8_t hash[static MSCHAPV2_NT_HASH_LEN])
{
	if (!sec->nt_hash)
		return eap_mschapv2_nt_hash(sec->data, sec->len, hash);
	if (sec->len != MSCHAPV2_NT_HASH_LEN)
		return IKE_ERR_INVAL;
	memcpy(hash, sec->data, MSCHAPV2_NT_HASH_LEN);
	return IKE_OK;
}

/* §8.2: "Only the user name (as presented by the peer and excluding any
 * prepended domain name) is used". */
static void strip_domain(const uint8_t **name, size_t *len)
{
	const uint8_t *bs = memchr(*name, '\\', *len);

	if (bs) {
		*len -= (size_t)(bs + 1 - *name);
		*name = bs + 1;
	}
}

void eap_mschapv2_challenge_hash(const uint8_t peer_challenge[static MSCHAPV2_CHALLENGE_LEN],
                                 const uint8_t auth_challenge[static MSCHAPV2_CHALLENGE_LEN],
                                 const uint8_t *name, size_t name_len, uint8_t out[static 8])
{
	uint8_t d[20];

	strip_domain(&name, &name_len);
	sha1_parts(d, peer_challenge, MSCHAPV2_CHALLENGE_LEN, auth_challenge,
	           MSCHAPV2_CHALLENGE_LEN, name, name_len, NULL, 0);
	memcpy(out, d, 8);
	sodium_memzero(d, sizeof(d));
}

/* §8.6 DesEncrypt: 7 key bytes spread over 8 (the low bit of each is
 * parity, which mbedTLS ignores but we set, as §8.6's MakeKey does). */
static void des_encrypt(const uint8_t clear[8], const uint8_t k7[7], uint8_t out[8])
{
	mbedtls_des_context ctx;
	uint8_t k[8];

	k[0] = k7[0];
	for (int i = 1; i < 7; i++)
		k[i] = (uint8_t)(k7[i - 1] << (8 - i) | k7[i] >> i);
	k[7] = (uint8_t)(k7[6] << 1);
	mbedtls_des_key_set_parity(k);
	mbedtls_des_init(&ctx);
	mbedtls_des_setkey_enc(&ctx, k);
	mbedtls_des_crypt_ecb(&ctx, clear, out);
	mbedtls_des_free(&ctx); /* zeroizes */
	sodium_memzero(k, sizeof(k));
}

/* §8.5 ChallengeResponse */
static void challenge_response(const uint8_t challenge[8],
                               const uint8_t nt_hash[MSCHAPV2_NT_HASH_LEN], uint8_t out[24])
{
	uint8_t z[21] = {0};

	memcpy(z, nt_hash, MSCHAPV2_NT_HASH_LEN);
	des_encrypt(challenge, z, out);
	des_encrypt(challenge, z + 7, out + 8);
	des_encrypt(challenge, z + 14, out + 16);
	sodium_memzero(z, sizeof(z));
}

void eap_mschapv2_nt_response(const uint8_t auth_challenge[static MSCHAPV2_CHALLENGE_LEN],
                              const uint8_t peer_challenge[static MSCHAPV2_CHALLENGE_LEN],
                              const uint8_t *name, size_t name_len,
                              const uint8_t nt_hash[static MSCHAPV2_NT_HASH_LEN],
                              uint8_t out[static MSCHAPV2_NT_RESPONSE_LEN])
{
	uint8_t ch[8];

	eap_mschapv2_challenge_hash(peer_challenge, auth_challenge, name, name_len, ch);
	challenge_response(ch, nt_hash, out);
}

static const char magic_server[] = "Magic server to client signing constant";
static const char magic_pad[] = "Pad to make it do more than one iteration";

void eap_mschapv2_auth_response(const uint8_t nt_hash[static MSCHAPV2_NT_HASH_LEN],
                                const uint8_t nt_response[static MSCHAPV2_NT_RESPONSE_LEN],
                                const uint8_t peer_challenge[static MSCHAPV2_CHALLENGE_LEN],
                                const uint8_t auth_challenge[static MSCHAPV2_CHALLENGE_LEN],
                                const uint8_t *name, size_t name_len,
                                uint8_t out[static MSCHAPV2_AUTH_LEN])
{
	uint8_t hh[MSCHAPV2_NT_HASH_LEN], d[20], ch[8];

	mbedtls_md4_ret(nt_hash, MSCHAPV2_NT_HASH_LEN, hh); /* §8.4 HashNtPasswordHash */
	sha1_parts(d, hh, sizeof(hh), nt_response, MSCHAPV2_NT_RESPONSE_LEN, magic_server,
	           sizeof(magic_server) - 1, NULL, 0);
	eap_mschapv2_challenge_hash(peer_challenge, auth_challenge, name, name_len, ch);
	sha1_parts(out, d, sizeof(d), ch, sizeof(ch), magic_pad, sizeof(magic_pad) - 1, NULL, 0);
	sodium_memzero(hh, sizeof(hh));
	sodium_memzero(d, sizeof(d));
}

/* ---- RFC 3079 §3.4 ------------------------------------------------------- */

static const char magic_master[] = "This is the MPPE Master Key";
/* "on the server side": Magic2 gives the receive key, Magic3 the send key */
static const char magic_recv[] = "On the client side, this is the send key; "
                                 "on the server side, it is the receive key.";
static const char magic_send[] = "On the client side, this is the receive key; "
                                 "on the server side, it is the send key.";

void eap_mschapv2_master_key(const uint8_t nt_hash[static MSCHAPV2_NT_HASH_LEN],
                             const uint8_t nt_response[static MSCHAPV2_NT_RESPONSE_LEN],
                             uint8_t out[static 16])
{
	uint8_t hh[MSCHAPV2_NT_HASH_LEN], d[20];

	mbedtls_md4_ret(nt_hash, MSCHAPV2_NT_HASH_LEN, hh);
	sha1_parts(d, hh, sizeof(hh), nt_response, MSCHAPV2_NT_RESPONSE_LEN, magic_master,
	           sizeof(magic_master) - 1, NULL, 0);
	memcpy(out, d, 16);
	sodium_memzero(hh, sizeof(hh));
	sodium_memzero(d, sizeof(d));
}

/* GetAsymmetricStartKey for 128-bit keys: SHA1(MasterKey | SHSpad1 |
 * magic | SHSpad2), first 16 bytes. */
static void start_key(const uint8_t master[16], const char *magic, size_t mlen, uint8_t out[16])
{
	static const uint8_t pad1[40] = {0};
	uint8_t pad2[40], d[20];

	memset(pad2, 0xf2, sizeof(pad2));
	sha1_parts(d, master, 16, pad1, sizeof(pad1), magic, mlen, pad2, sizeof(pad2));
	memcpy(out, d, 16);
	sodium_memzero(d, sizeof(d));
}

void eap_mschapv2_derive_msk(const uint8_t nt_hash[static MSCHAPV2_NT_HASH_LEN],
                             const uint8_t nt_response[static MSCHAPV2_NT_RESPONSE_LEN],
                             uint8_t msk[static MSCHAPV2_MSK_LEN])
{
	uint8_t master[16];

	eap_mschapv2_master_key(nt_hash, nt_response, master);
	/* The MS-MPPE-Recv-Key | MS-MPPE-Send-Key a RADIUS server returns
	 * (RFC 2548), zero-padded to the 64 bytes of RFC 3748 §7.10: what
	 * Windows and strongSwan feed into IKEv2's AUTH. */
	memset(msk, 0, MSCHAPV2_MSK_LEN);
	start_key(master, magic_recv, sizeof(magic_recv) - 1, msk);
	start_key(master, magic_send, sizeof(magic_send) - 1, msk + 16);
	sodium_memzero(master, sizeof(master));
}

/* ---- helpers -------------------------------------------------------------- */

static const char hexdig[] = "0123456789ABCDEF";

static void hex_upper(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[b[i] >> 4];
		out[2 * i + 1] = hexdig[b[i] & 15];
	}
}

/* 2n hex digits into n bytes; false on a non-digit. */
static bool unhex(const uint8_t *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = wire_hex_digit(s[2 * i]), lo = wire_hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* OpCode, MS-CHAPv2-ID, MS-Length (= the Type-Data length) then body. */
static int put_hdr(uint8_t *out, size_t cap, uint8_t op, uint8_t ms_id, size_t total)
{
	if (total > cap)
		return IKE_ERR_NOSPACE;
	out[0] = op;
	out[1] = ms_id;
	wire_store16(out + 2, (uint16_t)total);
	return IKE_OK;
}

/* The header of a packet that has one; the body's length in *blen. */
static int get_hdr(const struct eap_pkt *in, uint8_t *ms_id, size_t *blen)
{
	if (in->data_len < MS_HDR)
		return IKE_ERR_LENGTH;
	/* The draft defines MS-Length as the EAP Length minus 5. */
	if (wire_load16(in->data + 2) != in->data_len)
		return IKE_ERR_LENGTH;
	*ms_id = in->data[1];
	*blen = in->data_len - MS_HDR;
	return IKE_OK;
}

/* ---- server --------------------------------------------------------------- */

int eap_mschapv2_server_init(struct eap_mschapv2 *m, const struct eap_mschapv2_server_cfg *cfg)
{
	memset(m, 0, sizeof(*m));
	if (!cfg->lookup || !cfg->rand || (cfg->name && strlen(cfg->name) > MSCHAPV2_NAME_MAX))
		return IKE_ERR_INVAL;
	m->server = true;
	m->cfg = *cfg;
	if (!m->cfg.name)
		m->cfg.name = "tunsec";
	m->state = MSCHAPV2_S_START;
	return IKE_OK;
}

static int server_challenge(struct eap_mschapv2 *m, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t nlen = strlen(m->cfg.name), total = MS_HDR + 1 + MSCHAPV2_CHALLENGE_LEN + nlen;
	int rc = put_hdr(out, cap, MSCHAPV2_OP_CHALLENGE, m->ms_id, total);

	if (rc < 0)
		return rc;
	m->cfg.rand(m->cfg.rand_ctx, m->auth_challenge, MSCHAPV2_CHALLENGE_LEN);
	out[4] = MSCHAPV2_CHALLENGE_LEN;
	memcpy(out + 5, m->auth_challenge, MSCHAPV2_CHALLENGE_LEN);
	memcpy(out + 5 + MSCHAPV2_CHALLENGE_LEN, m->cfg.name, nlen);
	*out_len = total;
	m->state = MSCHAPV2_S_RESPONSE;
	return EAP_SEND;
}

/* RFC 2759 §6: "E=691 R=r C=<new challenge> V=3 M=<message>". */
static int server_failure(struct eap_mschapv2 *m, bool retry, uint8_t *out, size_t cap,
                          size_t *out_len)
{
	static const char tail[] = " V=3 M=Authentication failed";
	char msg[MS_MSG_MAX];
	size_t n = 0;
	int rc;

	/* A new challenge for the retry: the peer's next Response must
	 * answer it, so an old Response can never be replayed. */
	m->cfg.rand(m->cfg.rand_ctx, m->auth_challenge, MSCHAPV2_CHALLENGE_LEN);
	memcpy(msg, retry ? "E=691 R=1 C=" : "E=691 R=0 C=", 12);
	n = 12;
	hex_upper(m->auth_challenge, MSCHAPV2_CHALLENGE_LEN, msg + n);
	n += 2 * MSCHAPV2_CHALLENGE_LEN;
	memcpy(msg + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	/* The draft: each retry is a new Request and a new MS-CHAPv2-ID. */
	rc = put_hdr(out, cap, MSCHAPV2_OP_FAILURE, (uint8_t)(m->ms_id + 1), MS_HDR + n);
	if (rc < 0)
		return rc;
	m->ms_id++;
	memcpy(out + MS_HDR, msg, n);
	*out_len = MS_HDR + n;
	m->state = retry ? MSCHAPV2_S_RESPONSE : MSCHAPV2_S_FAILURE;
	return EAP_SEND;
}

static int server_response(struct eap_mschapv2 *m, const struct eap_pkt *in, uint8_t *out,
                           size_t cap, size_t *out_len)
{
	static const char welcome[] = " M=Welcome";
	const uint8_t *v, *name;
	struct eap_mschapv2_secret sec;
	uint8_t hash[MSCHAPV2_NT_HASH_LEN], expect[MSCHAPV2_NT_RESPONSE_LEN];
	uint8_t ms_id, zero[8] = {0};
	size_t blen, name_len, total;
	bool known, ok;
	int rc = get_hdr(in, &ms_id, &blen);

	if (rc < 0)
		return rc;
	/* Room for whichever answer, before anything counts. */
	if (cap < MS_HDR + MS_MSG_MAX)
		return IKE_ERR_NOSPACE;
	if (blen < 1 + MSCHAPV2_RESPONSE_LEN || in->data[4] != MSCHAPV2_RESPONSE_LEN)
		return IKE_ERR_LENGTH;
	/* RFC 2759 §4: it answers our Challenge (or Failure's new one). */
	if (ms_id != m->ms_id)
		return IKE_ERR_SYNTAX;
	v = in->data + 5;
	name = v + MSCHAPV2_RESPONSE_LEN;
	name_len = blen - 1 - MSCHAPV2_RESPONSE_LEN;
	/* Reserved and Flags "MUST be zero" (§4). */
	if (memcmp(v + 16, zero, 8) != 0 || v[48] != 0)
		return IKE_ERR_SYNTAX;
	if (name_len > MSCHAPV2_NAME_MAX)
		return IKE_ERR_LENGTH;
	/* claimed (eap_mschapv2_claimed_name()); eap_mschapv2_name() gives
	 * it only once verified */
	memcpy(m->name, name, name_len);
	m->name_len = name_len;

	/* An unknown user costs the same work as a wrong password and gets
	 * the same answer, so that names cannot be probed. */
	known = m->cfg.lookup(m->cfg.lookup_ctx, name, name_len, &sec) == 0 &&
	        eap_mschapv2_secret_hash(&sec, hash) == 0;
	if (!known)
		m->cfg.rand(m->cfg.rand_ctx, hash, sizeof(hash));
	eap_mschapv2_nt_response(m->auth_challenge, v, name, name_len, hash, expect);
	ok = sodium_memcmp(expect, v + 24, MSCHAPV2_NT_RESPONSE_LEN) == 0 && known;
	if (!ok) {
		sodium_memzero(hash, sizeof(hash));
		sodium_memzero(expect, sizeof(expect));
		if (++m->failures <= m->cfg.retries)
			return server_failure(m, true, out, cap, out_len);
		if (m->cfg.final_r0)
			return server_failure(m, false, out, cap, out_len);
		m->state = MSCHAPV2_S_DONE_FAIL;
		return EAP_FAILURE;
	}

	/* "S=<40 hex digits> M=<message>" (RFC 2759 §5) */
	total = MS_HDR + 2 + 2 * MSCHAPV2_AUTH_LEN + sizeof(welcome) - 1;
	rc = put_hdr(out, cap, MSCHAPV2_OP_SUCCESS, m->ms_id, total);
	if (rc == IKE_OK) {
		eap_mschapv2_auth_response(hash, expect, v, m->auth_challenge, name, name_len,
		                           m->auth_response);
		eap_mschapv2_derive_msk(hash, expect, m->msk);
		out[4] = 'S';
		out[5] = '=';
		hex_upper(m->auth_response, MSCHAPV2_AUTH_LEN, (char *)out + 6);
		memcpy(out + 6 + 2 * MSCHAPV2_AUTH_LEN, welcome, sizeof(welcome) - 1);
		*out_len = total;
		m->state = MSCHAPV2_S_SUCCESS;
		rc = EAP_SEND;
	}
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(expect, sizeof(expect));
	return rc;
}

static int server_process(struct eap_mschapv2 *m, const struct eap_pkt *in, uint8_t *out,
                          size_t cap, size_t *out_len)
{
	if (m->state == MSCHAPV2_S_START) {
		if (in)
			return IKE_ERR_SYNTAX;
		/* The draft: MS-CHAPv2-ID starts as the EAP Identifier; any
		 * value does, as long as the Response echoes it. */
		return server_challenge(m, out, cap, out_len);
	}
	if (!in || in->data_len < 1)
		return IKE_ERR_LENGTH;
	switch (in->data[0]) {
	case MSCHAPV2_OP_RESPONSE:
		if (m->state != MSCHAPV2_S_RESPONSE)
			break;
		return server_response(m, in, out, cap, out_len);
	case MSCHAPV2_OP_SUCCESS:
		/* The Success Response: the peer accepted our proof. */
		if (m->state != MSCHAPV2_S_SUCCESS || in->data_len != 1)
			break;
		m->state = MSCHAPV2_S_DONE_OK;
		return EAP_SUCCESS;
	case MSCHAPV2_OP_FAILURE:
		/* A Failure Response: the peer gives up, in any state. */
		if (in->data_len != 1)
			break;
		m->state = MSCHAPV2_S_DONE_FAIL;
		return EAP_FAILURE;
	default:
		break;
	}
	m->state = MSCHAPV2_S_DONE_FAIL;
	return IKE_ERR_SYNTAX;
}

/* ---- peer ----------------------------------------------------------------- */

int eap_mschapv2_peer_init(struct eap_mschapv2 *m, const uint8_t *name, size_t name_len,
                           const struct eap_mschapv2_secret *secret, eap_mschapv2_rand_fn rand,
                           void *rand_ctx)
{
	memset(m, 0, sizeof(*m));
	if (name_len > MSCHAPV2_NAME_MAX || !rand || eap_mschapv2_secret_hash(secret, m->nt_hash))
		goto inval;
	if (name_len)
		memcpy(m->name, name, name_len);
	m->name_len = name_len;
	m->rand = rand;
	m->rand_ctx = rand_ctx;
	m->state = MSCHAPV2_S_START;
	return IKE_OK;
inval:
	eap_mschapv2_wipe(m);
	return IKE_ERR_INVAL;
}

static int peer_challenge(struct eap_mschapv2 *m, const struct eap_pkt *in, uint8_t *out,
                          size_t cap, size_t *out_len)
{
	uint8_t ms_id, *v;
	uint8_t nt_response[MSCHAPV2_NT_RESPONSE_LEN];
	size_t blen, total = MS_HDR + 1 + MSCHAPV2_RESPONSE_LEN + m->name_len;
	int rc = get_hdr(in, &ms_id, &blen);

	if (rc < 0)
		return rc;
	/* Value-Size 16, the challenge, and a Name (any length: the draft
	 * does not use it and strongSwan's is "strongSwan"). */
	if (blen < 1 + MSCHAPV2_CHALLENGE_LEN || in->data[4] != MSCHAPV2_CHALLENGE_LEN)
		return IKE_ERR_LENGTH;
	rc = put_hdr(out, cap, MSCHAPV2_OP_RESPONSE, ms_id, total);
	if (rc < 0)
		return rc;
	m->ms_id = ms_id;
	memcpy(m->auth_challenge, in->data + 5, MSCHAPV2_CHALLENGE_LEN);

	out[4] = MSCHAPV2_RESPONSE_LEN;
	v = out + 5;
	memset(v, 0, MSCHAPV2_RESPONSE_LEN);
	m->rand(m->rand_ctx, v, MSCHAPV2_CHALLENGE_LEN); /* Peer-Challenge */
	eap_mschapv2_nt_response(m->auth_challenge, v, m->name, m->name_len, m->nt_hash,
	                         nt_response);
	memcpy(v + 24, nt_response, MSCHAPV2_NT_RESPONSE_LEN);
	if (m->name_len)
		memcpy(v + MSCHAPV2_RESPONSE_LEN, m->name, m->name_len);
	/* What the server must prove it knows, and the key, computed now
	 * so that nothing but the comparison waits for its answer. */
	eap_mschapv2_auth_response(m->nt_hash, nt_response, v, m->auth_challenge, m->name,
	                           m->name_len, m->auth_response);
	eap_mschapv2_derive_msk(m->nt_hash, nt_response, m->msk);
	sodium_memzero(nt_response, sizeof(nt_response));
	*out_len = total;
	m->state = MSCHAPV2_S_SUCCESS;
	return EAP_SEND;
}

/*
 * The Success Request: "S=<40 hex digits>", then nothing or " M=<message>"
 * (RFC 2759 §5). Anything else, or a value that differs from ours, fails:
 * a server that cannot prove it knows the password is not the server.
 */
static int peer_success(struct eap_mschapv2 *m, const struct eap_pkt *in, uint8_t *out,
                        size_t cap, size_t *out_len)
{
	uint8_t ms_id, got[MSCHAPV2_AUTH_LEN];
	const uint8_t *s;
	size_t blen;
	bool ok;
	int rc = get_hdr(in, &ms_id, &blen);

	if (rc < 0)
		return rc;
	s = in->data + MS_HDR;
	if (ms_id != m->ms_id || blen < 2 + 2 * MSCHAPV2_AUTH_LEN || s[0] != 'S' || s[1] != '=' ||
	    (blen > 2 + 2 * MSCHAPV2_AUTH_LEN && s[2 + 2 * MSCHAPV2_AUTH_LEN] != ' ') ||
	    !unhex(s + 2, MSCHAPV2_AUTH_LEN, got)) {
		m->state = MSCHAPV2_S_DONE_FAIL;
		return IKE_ERR_SYNTAX;
	}
	ok = sodium_memcmp(got, m->auth_response, MSCHAPV2_AUTH_LEN) == 0;
	if (!ok) {
		m->state = MSCHAPV2_S_DONE_FAIL;
		sodium_memzero(m->msk, sizeof(m->msk));
		return IKE_ERR_AUTH;
	}
	if (cap < 1)
		return IKE_ERR_NOSPACE;
	out[0] = MSCHAPV2_OP_SUCCESS; /* the Success Response: OpCode only */
	*out_len = 1;
	m->state = MSCHAPV2_S_DONE_OK;
	return EAP_SUCCESS;
}

/* "E=<decimal>" at the start of a Failure Request's message, or 0. */
static int failure_code(const uint8_t *s, size_t n)
{
	int e = 0;

	if (n < 3 || s[0] != 'E' || s[1] != '=')
		return 0;
	/* nine digits at most: the codes are four, and an int holds nine */
	for (size_t i = 2; i < n && i < 2 + 9 && s[i] >= '0' && s[i] <= '9'; i++)
		e = e * 10 + (s[i] - '0');
	return e;
}

static int peer_process(struct eap_mschapv2 *m, const struct eap_pkt *in, uint8_t *out,
                        size_t cap, size_t *out_len)
{
	uint8_t ms_id;
	size_t blen;

	if (!in || in->data_len < 1)
		return IKE_ERR_LENGTH;
	switch (in->data[0]) {
	case MSCHAPV2_OP_CHALLENGE:
		if (m->state != MSCHAPV2_S_START)
			break;
		return peer_challenge(m, in, out, cap, out_len);
	case MSCHAPV2_OP_SUCCESS:
		if (m->state != MSCHAPV2_S_SUCCESS)
			break;
		return peer_success(m, in, out, cap, out_len);
	case MSCHAPV2_OP_FAILURE:
		/* Wrong password, or the account may not log in: we have no
		 * other password to try, so we give up with a Failure
		 * Response (RFC 2759 §6), whatever R= says. */
		if (m->state != MSCHAPV2_S_SUCCESS || get_hdr(in, &ms_id, &blen) < 0)
			break;
		if (cap < 1)
			return IKE_ERR_NOSPACE;
		m->error = failure_code(in->data + MS_HDR, blen);
		sodium_memzero(m->msk, sizeof(m->msk));
		out[0] = MSCHAPV2_OP_FAILURE;
		*out_len = 1;
		m->state = MSCHAPV2_S_DONE_FAIL;
		return EAP_FAILURE;
	default:
		break;
	}
	m->state = MSCHAPV2_S_DONE_FAIL;
	return IKE_ERR_SYNTAX;
}

/* ---- the method ------------------------------------------------------------ */

static int mschapv2_process(void *st, const struct eap_pkt *in, uint8_t *out, size_t cap,
                            size_t *out_len)
{
	struct eap_mschapv2 *m = st;

	*out_len = 0;
	if (m->state == MSCHAPV2_S_DONE_OK || m->state == MSCHAPV2_S_DONE_FAIL)
		return IKE_ERR_SYNTAX;
	return m->server ? server_process(m, in, out, cap, out_len)
	                 : peer_process(m, in, out, cap, out_len);
}

static int mschapv2_msk(void *st, uint8_t msk[EAP_MSK_MAX])
{
	struct eap_mschapv2 *m = st;

	if (m->state != MSCHAPV2_S_DONE_OK)
		return IKE_ERR_INVAL;
	memcpy(msk, m->msk, MSCHAPV2_MSK_LEN);
	return MSCHAPV2_MSK_LEN;
}

const struct eap_method_ops eap_mschapv2_ops = {
    .type = EAP_TYPE_MSCHAPV2,
    .name = "EAP-MSCHAPv2",
    .process = mschapv2_process,
    .msk = mschapv2_msk,
};

void eap_mschapv2_wipe(struct eap_mschapv2 *m)
{
	sodium_memzero(m, sizeof(*m));
}

const uint8_t *eap_mschapv2_name(const struct eap_mschapv2 *m, size_t *len)
{
	*len = m->state == MSCHAPV2_S_DONE_OK ? m->name_len : 0;
	return m->name;
}

const uint8_t *eap_mschapv2_claimed_name(const struct eap_mschapv2 *m, size_t *len)
{
	*len = m->name_len;
	return m->name;
}
