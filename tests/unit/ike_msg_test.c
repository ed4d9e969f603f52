/*
 * ike/msg.c: the Encrypted payload (RFC 7296 §3.14, RFC 5282 §5) for every
 * suite of crypto/aead.h, with every protected region tampered; a message
 * sealed independently by Python's "cryptography" (tests/vectors/
 * ike_sk_gen.py) decrypted here; a hand-built IKE_SA_INIT checked against
 * tshark's dissector (tests/vectors/ike_sa_init_gen.py); and RFC 7383
 * fragmentation: split, then reassembled shuffled, duplicated, incomplete,
 * re-fragmented, in 600-byte pieces as Windows sends them.
 */
#include "ike/msg.h"

#include <stdlib.h>

#include "crypto/aead.h"
#include "tests/unit/suites.h"
#include "tests/unit/test.h"

static struct ike_msg m;
static struct ike_frag_reasm reasm;

/* A context for the suite; the test cannot go on without it. */
static struct aead *suite_aead(const struct test_suite *s, uint8_t seed)
{
	uint8_t km[AEAD_MAX_KEYMAT];
	size_t n = aead_keymat_len(s->encr, s->bits, s->integ);
	struct aead *a = NULL;

	for (size_t i = 0; i < n; i++)
		km[i] = (uint8_t)(seed + 7 * i);
	if (n == 0 || aead_new(&a, s->encr, s->bits, s->integ, km, n) != 0) {
		test_fail(__FILE__, __LINE__, "suite %s unavailable", s->name);
		test_abort();
	}
	return a;
}

static const struct ike_hdr auth_hdr = {
    .spi_i = 0xa1a2a3a4a5a6a7a8ULL,
    .spi_r = 0xb1b2b3b4b5b6b7b8ULL,
    .exchange = IKE_AUTH,
    .flags = IKE_FLAG_I,
    .msg_id = 1,
};

/* An IKE_AUTH request's payloads: IDi, AUTH, SA, TSi, TSr, plus pad_to
 * bytes of CERT so that it can be made big. */
static int build_auth_plain(uint8_t *buf, size_t cap, size_t cert_len)
{
	static uint8_t cert[16384];
	static struct ike_sa_pl sa;
	static struct ike_ts_pl ts;
	struct ike_build b;
	struct ike_id id = {
	    .type = IKE_ID_FQDN, .data = (const uint8_t *)"client.example", .len = 14};
	struct ike_auth au = {IKE_AUTH_PSK, (const uint8_t *)"0123456789abcdef0123456789abcdef",
	                      32};
	struct ike_cert c = {IKE_CERT_X509_SIG, cert, cert_len};

	for (size_t i = 0; i < sizeof(cert); i++)
		cert[i] = (uint8_t)(i * 31 + 3);
	memset(&sa, 0, sizeof(sa));
	sa.n_proposals = 1;
	sa.p[0] = (struct ike_proposal){
	    .num = 1, .proto = IKE_PROTO_ESP, .spi_len = 4, .spi = {1, 2, 3, 4}, .n_transforms = 2};
	sa.p[0].t[0] = (struct ike_transform){IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, 128, false};
	sa.p[0].t[1] = (struct ike_transform){IKE_TRANS_ESN, IKE_ESN_NO, 0, false};
	memset(&ts, 0, sizeof(ts));
	ts.n_ts = 1;
	ts.ts[0].type = IKE_TS_IPV4_ADDR_RANGE;
	ts.ts[0].end_port = 65535;
	memset(ts.ts[0].end, 0xff, 4);

	ike_build_init(&b, buf, cap, &auth_hdr);
	ike_build_id(&b, IKE_PL_IDI, &id);
	if (cert_len)
		ike_build_cert(&b, IKE_PL_CERT, &c);
	ike_build_auth(&b, &au);
	ike_build_sa(&b, &sa);
	ike_build_ts(&b, IKE_PL_TSI, &ts);
	ike_build_ts(&b, IKE_PL_TSR, &ts);
	return ike_build_finish(&b, NULL);
}

static void check_auth_payloads(size_t cert_len)
{
	CHECK(ike_msg_has(&m, IKE_PL_IDI));
	CHECK_EQ(m.idi.len, 14);
	CHECK_MEM(m.idi.data, "client.example", 14);
	CHECK_EQ(m.auth.method, IKE_AUTH_PSK);
	CHECK_EQ(m.auth.len, 32);
	CHECK_EQ(m.sa.p[0].t[0].key_bits, 128);
	CHECK_EQ(m.tsi.n_ts, 1);
	CHECK_EQ(m.tsr.ts[0].end_port, 65535);
	CHECK_EQ(m.n_cert, cert_len ? 1 : 0);
	if (cert_len)
		CHECK_EQ(m.cert[0].len, cert_len);
}

TEST(msg_rfc7296_s3_14_sk_round_trip_every_suite)
{
	for (const struct test_suite *s = test_suites; s->name; s++) {
		struct aead *a = suite_aead(s, 1);
		uint8_t plain[1024], enc[1200];
		int pn, en;

		pn = build_auth_plain(plain, sizeof(plain), 0);
		CHECK(pn > 0);
		en = ike_msg_encrypt(a, plain, (size_t)pn, enc, sizeof(enc));
		CHECK_EQ(en, (int)ike_msg_encrypted_len(a, (size_t)pn));
		/* Header kept but for Next Payload and Length. */
		CHECK_MEM(enc, plain, 16);
		CHECK_MEM(enc + 17, plain + 17, 7);
		CHECK_EQ(enc[16], IKE_PL_SK);
		CHECK_EQ(wire_load32(enc + 24), (uint32_t)en);
		CHECK_EQ(enc[IKE_HDR_LEN], IKE_PL_IDI);
		/* The plaintext does not show through. */
		CHECK(memmem(enc, (size_t)en, "client.example", 14) == NULL);

		CHECK_EQ(ike_msg_parse(&m, enc, (size_t)en), en);
		CHECK(ike_msg_has(&m, IKE_PL_SK));
		CHECK_EQ(m.sk.off, IKE_HDR_LEN + 4);
		CHECK_EQ(ike_msg_decrypt(a, enc, (size_t)en, &m), 0);
		check_auth_payloads(0);
		/* Outer SK, then the inner payloads in order. */
		CHECK_EQ(m.n_payloads, 6);
		CHECK_EQ(m.order[0], IKE_PL_SK);
		CHECK_EQ(m.order[1], IKE_PL_IDI);
		CHECK_EQ(m.order[5], IKE_PL_TSR);
		aead_free(a);
	}
}

/* RFC 5282 §5 / RFC 7296 §3.14: header, SK header, IV, ciphertext and ICV are
 * all covered; a flip anywhere is IKE_ERR_AUTH. */
TEST(msg_rfc5282_s5_every_protected_byte_is_authenticated)
{
	for (const struct test_suite *s = test_suites; s->name; s++) {
		struct aead *a = suite_aead(s, 2);
		uint8_t plain[1024], enc[1200], copy[1200];
		int pn, en;

		pn = build_auth_plain(plain, sizeof(plain), 0);
		en = ike_msg_encrypt(a, plain, (size_t)pn, enc, sizeof(enc));
		CHECK(en > 0);
		for (int pos = 0; pos < en; pos++) {
			int rc;

			memcpy(copy, enc, (size_t)en);
			copy[pos] ^= 0x01;
			rc = ike_msg_parse(&m, copy, (size_t)en);
			if (rc < 0)
				continue; /* the framing itself broke: dropped earlier */
			rc = ike_msg_decrypt(a, copy, (size_t)en, &m);
			if (rc != IKE_ERR_AUTH)
				test_fail(__FILE__, __LINE__, "%s: flip at %d: %s", s->name, pos,
				          ike_err_name(rc));
		}
		aead_free(a);
	}
}

TEST(msg_rfc7296_s3_14_wrong_key_and_short_body)
{
	const struct test_suite *gcm = test_suite("aes128gcm16");
	struct aead *a = suite_aead(gcm, 3), *b = suite_aead(gcm, 4);
	uint8_t plain[1024], enc[1200];
	int pn, en;

	pn = build_auth_plain(plain, sizeof(plain), 0);
	en = ike_msg_encrypt(a, plain, (size_t)pn, enc, sizeof(enc));
	CHECK_EQ(ike_msg_parse(&m, enc, (size_t)en), en);
	CHECK_EQ(ike_msg_decrypt(b, enc, (size_t)en, &m), IKE_ERR_AUTH);

	/* SK body of IV + ICV only: no Pad Length byte. */
	en = (int)(IKE_HDR_LEN + 4 + gcm->iv + gcm->icv);
	wire_store32(enc + 24, (uint32_t)en);
	wire_store16(enc + IKE_HDR_LEN + 2, (uint16_t)(4 + gcm->iv + gcm->icv));
	CHECK_EQ(ike_msg_parse(&m, enc, (size_t)en), en);
	CHECK_EQ(ike_msg_decrypt(a, enc, (size_t)en, &m), IKE_ERR_LENGTH);
	/* A message without SK. */
	en = build_auth_plain(plain, sizeof(plain), 0);
	CHECK_EQ(ike_msg_parse(&m, plain, (size_t)en), en);
	CHECK_EQ(ike_msg_decrypt(a, plain, (size_t)en, &m), IKE_ERR_INVAL);
	aead_free(a);
	aead_free(b);
}

TEST(msg_rfc7296_s1_4_empty_informational_liveness)
{
	for (const struct test_suite *s = test_suites; s->name; s++) {
		struct aead *a = suite_aead(s, 5);
		struct ike_hdr h = auth_hdr;
		struct ike_build b;
		uint8_t plain[64], enc[128];
		int pn, en;

		h.exchange = IKE_INFORMATIONAL;
		h.msg_id = 9;
		ike_build_init(&b, plain, sizeof(plain), &h);
		pn = ike_build_finish(&b, NULL);
		en = ike_msg_encrypt(a, plain, (size_t)pn, enc, sizeof(enc));
		CHECK(en > 0);
		CHECK_EQ(enc[IKE_HDR_LEN], IKE_PL_NONE);
		CHECK_EQ(ike_msg_parse(&m, enc, (size_t)en), en);
		CHECK_EQ(ike_msg_decrypt(a, enc, (size_t)en, &m), 0);
		CHECK_EQ(m.n_payloads, 1);
		aead_free(a);
	}
}

TEST(msg_encrypt_checks_input_and_capacity)
{
	struct aead *a = suite_aead(test_suite("aes128-sha256"), 6);
	uint8_t plain[1024], enc[1200];
	int pn;

	pn = build_auth_plain(plain, sizeof(plain), 0);
	CHECK_EQ(
	    ike_msg_encrypt(a, plain, (size_t)pn, enc, ike_msg_encrypted_len(a, (size_t)pn) - 1),
	    IKE_ERR_NOSPACE);
	CHECK_EQ(ike_msg_encrypt(a, plain, (size_t)pn - 1, enc, sizeof(enc)), IKE_ERR_INVAL);
	CHECK_EQ(ike_msg_encrypt(a, plain, 10, enc, sizeof(enc)), IKE_ERR_INVAL);
	aead_free(a);
}

/* Authentic but malformed: only the key holder can send this, so it is the
 * fatal class (wire.h). Sealed by hand with a bad Pad Length, then with a
 * broken inner payload. */
TEST(msg_rfc7296_s3_14_authenticated_garbage_is_fatal)
{
	const struct test_suite *gcm = test_suite("aes128gcm16");
	struct aead *a = suite_aead(gcm, 7);
	uint8_t msg[128];
	size_t iv = gcm->iv, icv = gcm->icv, ct = 20, len = IKE_HDR_LEN + 4 + iv + ct + icv;
	struct ike_build b;

	for (int round = 0; round < 2; round++) {
		ike_build_init(&b, msg, sizeof(msg), &auth_hdr);
		ike_build_finish(&b, NULL);
		msg[16] = IKE_PL_SK;
		wire_store32(msg + 24, (uint32_t)len);
		msg[IKE_HDR_LEN] = IKE_PL_NONCE;
		msg[IKE_HDR_LEN + 1] = 0;
		wire_store16(msg + IKE_HDR_LEN + 2, (uint16_t)(len - IKE_HDR_LEN));
		memset(msg + IKE_HDR_LEN + 4, 0x33, iv + ct);
		if (round == 0) {
			msg[IKE_HDR_LEN + 4 + iv + ct - 1] = 200; /* pad longer than data */
		} else {
			/* A Nonce of 19 - 4 = 15 bytes, Pad Length 0. */
			uint8_t *p = msg + IKE_HDR_LEN + 4 + iv;

			p[0] = 0;
			p[1] = 0;
			wire_store16(p + 2, 19);
			p[ct - 1] = 0;
		}
		CHECK_EQ(aead_seal(a, msg + IKE_HDR_LEN + 4, msg, IKE_HDR_LEN + 4, NULL, 0,
		                   msg + IKE_HDR_LEN + 4 + iv, ct, msg + IKE_HDR_LEN + 4 + iv + ct),
		         0);
		CHECK_EQ(ike_msg_parse(&m, msg, len), (int)len);
		CHECK_EQ(ike_msg_decrypt(a, msg, len, &m), IKE_ERR_PEER_SYNTAX);
		CHECK(ike_err_fatal(IKE_ERR_PEER_SYNTAX));
	}
	aead_free(a);
}

/* --- vectors from other implementations ---------------------------------- */

static void vec_path(char *buf, size_t cap, const char *file)
{
	const char *top = getenv("TUNSEC_TOP");

	snprintf(buf, cap, "%s/tests/vectors/%s", top ? top : ".", file);
}

/* "name: hex" lines of a record "[rec]"; returns bytes or -1. */
static int vec_get(const char *file, const char *rec, const char *name, uint8_t *out, size_t cap)
{
	char path[512], line[8192], want[128];
	bool in = false;
	FILE *f;
	int n = -1;

	vec_path(path, sizeof(path), file);
	if (!(f = fopen(path, "r")))
		return -1;
	snprintf(want, sizeof(want), "[%s]", rec);
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line), nl = strlen(name);

		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = 0;
		if (line[0] == '[') {
			in = strcmp(line, want) == 0;
			continue;
		}
		if (in && strncmp(line, name, nl) == 0 && line[nl] == ':') {
			n = test_unhex(line + nl + 1, out, cap);
			break;
		}
	}
	fclose(f);
	return n;
}

TEST(msg_rfc5282_s5_decrypts_python_cryptography_vectors)
{
	const char *recs[] = {"aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256",
	                      "aes256-sha512"};

	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		uint8_t km[AEAD_MAX_KEYMAT], msg[1024], inner[1024], sel[8];
		int kn = vec_get("ike_sk.txt", recs[i], "keymat", km, sizeof(km));
		int mn = vec_get("ike_sk.txt", recs[i], "message", msg, sizeof(msg));
		int in = vec_get("ike_sk.txt", recs[i], "inner", inner, sizeof(inner));
		int sn = vec_get("ike_sk.txt", recs[i], "suite", sel, sizeof(sel));
		struct aead *a = NULL;

		if (kn < 0 || mn < 0 || in < 0 || sn != 6) {
			test_fail(__FILE__, __LINE__, "%s: vector missing", recs[i]);
			continue;
		}
		/* suite: encr(2) bits(2) integ(2), the record's in our table */
		const struct test_suite *t = test_suite(recs[i]);

		CHECK_EQ(wire_load16(sel), t->encr);
		CHECK_EQ(wire_load16(sel + 2), t->bits);
		CHECK_EQ(wire_load16(sel + 4), t->integ);
		CHECK_EQ(kn, test_suite_keymat(t));
		if (aead_new(&a, wire_load16(sel), wire_load16(sel + 2), wire_load16(sel + 4), km,
		             (size_t)kn) != 0) {
			test_fail(__FILE__, __LINE__, "%s: aead_new", recs[i]);
			continue;
		}
		CHECK_EQ(ike_msg_parse(&m, msg, (size_t)mn), mn);
		CHECK_EQ(ike_msg_decrypt(a, msg, (size_t)mn, &m), 0);
		/* The inner chain is IDi + Nonce: compare the bytes. */
		CHECK_EQ(m.idi.len + 8 + 4 + m.nonce.len, (size_t)in);
		CHECK_MEM(m.idi.body - 4, inner, (size_t)in);
		aead_free(a);
	}
}

/* A hand-built IKE_SA_INIT request (§1.2: HDR, SAi1, KEi, Ni, N(NAT_D)x2,
 * N(FRAG), N(SIGNATURE_HASH_ALGORITHMS)), made by tests/vectors/
 * ike_sa_init_gen.py with struct.pack, cross-checked there with tshark. */
TEST(msg_rfc7296_s1_2_sa_init_vector_parses_as_tshark_decodes)
{
	uint8_t msg[2048], rebuilt[2048];
	int n = vec_get("ike_sa_init.txt", "ike_sa_init", "message", msg, sizeof(msg));
	const struct ike_notify *nd;
	struct ike_build b;
	struct ike_ke ke;

	REQUIRE(n > 0);
	CHECK_EQ(ike_msg_parse(&m, msg, (size_t)n), n);
	CHECK(m.hdr.spi_i == 0x5e1e9a2b7c3d4f60ULL);
	CHECK(m.hdr.spi_r == 0);
	CHECK_EQ(m.hdr.exchange, IKE_SA_INIT);
	CHECK_EQ(m.hdr.flags, IKE_FLAG_I);
	CHECK_EQ(m.sa.n_proposals, 2);
	CHECK_EQ(m.sa.p[0].n_transforms, 4);
	CHECK_EQ(m.sa.p[0].t[0].id, IKE_ENCR_AES_GCM_16);
	CHECK_EQ(m.sa.p[0].t[0].key_bits, 256);
	CHECK_EQ(m.sa.p[1].t[0].id, IKE_ENCR_AES_CBC);
	CHECK_EQ(m.sa.p[1].n_transforms, 4);
	CHECK_EQ(m.ke.group, IKE_DH_CURVE25519);
	CHECK_EQ(m.ke.len, 32);
	CHECK_EQ(m.nonce.len, 32);
	CHECK_EQ(m.n_notify, 4);
	nd = ike_msg_notify(&m, IKE_N_NAT_DETECTION_DESTINATION_IP);
	CHECK(nd && nd->len == 20);
	CHECK(ike_msg_notify(&m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL);
	nd = ike_msg_notify(&m, IKE_N_SIGNATURE_HASH_ALGORITHMS);
	CHECK(nd && nd->len == 6);

	/* Our builder makes the same bytes from the parsed structs. */
	ike_build_init(&b, rebuilt, sizeof(rebuilt), &m.hdr);
	ike_build_sa(&b, &m.sa);
	ke = m.ke;
	ike_build_ke(&b, &ke);
	ike_build_nonce(&b, m.nonce.data, m.nonce.len);
	for (unsigned i = 0; i < m.n_notify; i++)
		ike_build_notify(&b, &m.notify[i]);
	CHECK_EQ(ike_build_finish(&b, NULL), n);
	CHECK_MEM(rebuilt, msg, (size_t)n);
}

/* --- RFC 7383 ------------------------------------------------------------- */

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static uint8_t frags[IKE_FRAG_MAX * 1400];
static size_t frag_len[IKE_FRAG_MAX], frag_off[IKE_FRAG_MAX];

static int split(struct aead *a, const uint8_t *plain, size_t pn, size_t max_len)
{
	int n = ike_frag_split(a, plain, pn, max_len, frags, sizeof(frags), frag_len, IKE_FRAG_MAX);
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		frag_off[i] = off;
		off += frag_len[i];
	}
	return n;
}

/* Parse and offer fragment i (a copy: decryption is in place). */
static int offer(struct aead *a, int i)
{
	static uint8_t copy[2048];
	int rc;

	memcpy(copy, frags + frag_off[i], frag_len[i]);
	rc = ike_msg_parse(&m, copy, frag_len[i]);
	if (rc < 0)
		return rc;
	return ike_frag_add(&reasm, a, copy, frag_len[i], &m);
}

static void check_reassembled(const uint8_t *plain, size_t pn, size_t cert_len)
{
	static uint8_t out[IKE_FRAG_BUF];
	uint8_t np = 0;
	int n = ike_frag_assemble(&reasm, out, sizeof(out), &np);

	REQUIRE_EQ(n, pn - IKE_HDR_LEN);
	CHECK_EQ(np, plain[16]);
	CHECK_MEM(out, plain + IKE_HDR_LEN, (size_t)n);
	CHECK_EQ(ike_msg_parse_inner(&m, np, out, (size_t)n), n);
	check_auth_payloads(cert_len);
}

TEST(msg_rfc7383_s2_5_split_shape_every_suite)
{
	static uint8_t plain[8192];

	for (const struct test_suite *s = test_suites; s->name; s++) {
		struct aead *a = suite_aead(s, 8);
		int pn, n;

		pn = build_auth_plain(plain, sizeof(plain), 3000);
		n = split(a, plain, (size_t)pn, 1280);
		CHECK(n >= 3);
		for (int i = 0; i < n; i++) {
			uint8_t *f = frags + frag_off[i];

			CHECK(frag_len[i] <= 1280);
			CHECK_EQ(f[16], IKE_PL_SKF);
			CHECK_EQ(wire_load32(f + 24), frag_len[i]);
			CHECK_EQ(f[IKE_HDR_LEN], i == 0 ? IKE_PL_IDI : IKE_PL_NONE);
			CHECK_EQ(wire_load16(f + IKE_HDR_LEN + 4), i + 1);
			CHECK_EQ(wire_load16(f + IKE_HDR_LEN + 6), n);
			CHECK_MEM(f, plain, 16); /* SPIs */
			CHECK_MEM(f + 17, plain + 17, 7);
		}
		ike_frag_reset(&reasm);
		for (int i = 0; i < n; i++)
			CHECK_EQ(offer(a, i), i + 1 < n ? IKE_FRAG_WAIT : IKE_FRAG_DONE);
		check_reassembled(plain, (size_t)pn, 3000);
		aead_free(a);
	}
}

TEST(msg_rfc7383_s2_6_random_order_with_duplicates)
{
	static uint8_t plain[8192];
	struct aead *a = suite_aead(test_suite("aes256gcm16"), 9);
	int pn, n, order[IKE_FRAG_MAX], done = 0, dups = 0;

	pn = build_auth_plain(plain, sizeof(plain), 5000);
	n = split(a, plain, (size_t)pn, 1000);
	CHECK(n >= 6);
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(rng() % (unsigned)(i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	ike_frag_reset(&reasm);
	for (int k = 0; k < n; k++) {
		int rc = offer(a, order[k]);

		if (rc == IKE_FRAG_DONE)
			done++;
		CHECK(rc == IKE_FRAG_WAIT || rc == IKE_FRAG_DONE);
		/* Every other one arrives twice. */
		if (k % 2 == 0 && k + 1 < n) {
			CHECK_EQ(offer(a, order[k]), IKE_FRAG_DUP);
			dups++;
		}
	}
	CHECK_EQ(done, 1);
	CHECK(dups > 0);
	check_reassembled(plain, (size_t)pn, 5000);
	aead_free(a);
}

TEST(msg_rfc7383_s2_6_missing_fragment_stays_incomplete)
{
	static uint8_t plain[8192], out[IKE_FRAG_BUF];
	struct aead *a = suite_aead(test_suite("chacha20poly1305"), 10);
	uint8_t np;
	int pn, n;

	pn = build_auth_plain(plain, sizeof(plain), 4000);
	n = split(a, plain, (size_t)pn, 1200);
	ike_frag_reset(&reasm);
	for (int i = 0; i < n; i++)
		if (i != 2)
			CHECK_EQ(offer(a, i), IKE_FRAG_WAIT);
	CHECK_EQ(ike_frag_assemble(&reasm, out, sizeof(out), &np), IKE_ERR_INVAL);
	CHECK_EQ(offer(a, 2), IKE_FRAG_DONE);
	check_reassembled(plain, (size_t)pn, 4000);
	aead_free(a);
}

/* Windows fragments at ~600 bytes; a certificate chain then takes > 16. */
TEST(msg_rfc7383_windows_600_byte_fragments)
{
	static uint8_t plain[16384];
	struct aead *a = suite_aead(test_suite("aes256-sha384"), 11);
	int pn, n;

	pn = build_auth_plain(plain, sizeof(plain), 12000);
	n = split(a, plain, (size_t)pn, 600);
	CHECK(n > 16);
	CHECK(n <= IKE_FRAG_MAX);
	ike_frag_reset(&reasm);
	for (int i = n - 1; i >= 0; i--) {
		CHECK(frag_len[i] <= 600);
		CHECK_EQ(offer(a, i), i > 0 ? IKE_FRAG_WAIT : IKE_FRAG_DONE);
	}
	check_reassembled(plain, (size_t)pn, 12000);
	/* Too many for IKE_FRAG_MAX at a tiny size. */
	CHECK_EQ(
	    ike_frag_split(a, plain, (size_t)pn, 150, frags, sizeof(frags), frag_len, IKE_FRAG_MAX),
	    IKE_ERR_TOO_MANY);
	CHECK_EQ(
	    ike_frag_split(a, plain, (size_t)pn, 60, frags, sizeof(frags), frag_len, IKE_FRAG_MAX),
	    IKE_ERR_INVAL);
	aead_free(a);
}

/* §2.6: a larger Total Fragments replaces what was kept (the sender went to
 * smaller fragments); a smaller one is dropped. */
TEST(msg_rfc7383_s2_6_total_fragments_changes)
{
	static uint8_t plain[8192], big[IKE_FRAG_MAX * 1400];
	static size_t big_len[IKE_FRAG_MAX];
	struct aead *a = suite_aead(test_suite("aes128gcm16"), 12);
	int pn, n_big, n_small;
	size_t off;

	pn = build_auth_plain(plain, sizeof(plain), 4000);
	n_big = ike_frag_split(a, plain, (size_t)pn, 1300, big, sizeof(big), big_len, IKE_FRAG_MAX);
	n_small = split(a, plain, (size_t)pn, 700);
	CHECK(n_small > n_big);
	CHECK(n_big > 1);

	ike_frag_reset(&reasm);
	{
		static uint8_t copy[2048];

		memcpy(copy, big, big_len[0]);
		CHECK_EQ(ike_msg_parse(&m, copy, big_len[0]), (int)big_len[0]);
		CHECK_EQ(ike_frag_add(&reasm, a, copy, big_len[0], &m), IKE_FRAG_WAIT);
		CHECK_EQ(reasm.total, n_big);
	}
	/* Smaller fragments, more of them: start over. */
	CHECK_EQ(offer(a, 0), IKE_FRAG_WAIT);
	CHECK_EQ(reasm.total, n_small);
	CHECK_EQ(reasm.n_have, 1);
	/* Now a fragment of the older, coarser split is refused. */
	off = big_len[0];
	{
		static uint8_t copy[2048];

		memcpy(copy, big + off, big_len[1]);
		CHECK_EQ(ike_msg_parse(&m, copy, big_len[1]), (int)big_len[1]);
		CHECK_EQ(ike_frag_add(&reasm, a, copy, big_len[1], &m), IKE_ERR_FRAG);
	}
	for (int i = 1; i < n_small; i++)
		CHECK_EQ(offer(a, i), i + 1 < n_small ? IKE_FRAG_WAIT : IKE_FRAG_DONE);
	check_reassembled(plain, (size_t)pn, 4000);
	aead_free(a);
}

TEST(msg_rfc7383_s2_6_forged_fragment_changes_nothing)
{
	static uint8_t plain[8192];
	const struct test_suite *cbc = test_suite("aes128-sha256");
	struct aead *a = suite_aead(cbc, 13), *other = suite_aead(cbc, 14);
	int pn, n;

	pn = build_auth_plain(plain, sizeof(plain), 3000);
	n = split(a, plain, (size_t)pn, 1024);
	ike_frag_reset(&reasm);
	CHECK_EQ(offer(a, 0), IKE_FRAG_WAIT);
	/* Tampered ciphertext. */
	frags[frag_off[1] + frag_len[1] - 20] ^= 0x80;
	CHECK_EQ(offer(a, 1), IKE_ERR_AUTH);
	frags[frag_off[1] + frag_len[1] - 20] ^= 0x80;
	/* Tampered Total Fragments (in the associated data), larger: it must
	 * not wipe what was kept. */
	wire_store16(frags + frag_off[1] + IKE_HDR_LEN + 6, (uint16_t)(n + 1));
	CHECK_EQ(offer(a, 1), IKE_ERR_AUTH);
	wire_store16(frags + frag_off[1] + IKE_HDR_LEN + 6, (uint16_t)n);
	/* A fragment under another key may not reset anything either. */
	CHECK_EQ(offer(other, 1), IKE_ERR_AUTH);
	CHECK_EQ(reasm.n_have, 1);
	CHECK_EQ(reasm.total, n);
	for (int i = 1; i < n; i++)
		CHECK_EQ(offer(a, i), i + 1 < n ? IKE_FRAG_WAIT : IKE_FRAG_DONE);
	check_reassembled(plain, (size_t)pn, 3000);
	aead_free(a);
	aead_free(other);
}

TEST(msg_rfc7383_s2_6_other_message_or_exchange)
{
	static uint8_t plain[8192];
	struct aead *a = suite_aead(test_suite("aes256gcm16"), 15);
	int pn, n;

	pn = build_auth_plain(plain, sizeof(plain), 3000);
	n = split(a, plain, (size_t)pn, 1024);
	ike_frag_reset(&reasm);
	CHECK_EQ(offer(a, 0), IKE_FRAG_WAIT);
	/* Same Message ID, other exchange type: refused before decryption. */
	frags[frag_off[1] + 18] = IKE_CREATE_CHILD_SA;
	CHECK_EQ(offer(a, 1), IKE_ERR_FRAG);
	frags[frag_off[1] + 18] = IKE_AUTH;
	/* A fragment of message 2 (built with the same split): starts over. */
	wire_store32(plain + 20, 2);
	{
		static uint8_t f2[IKE_FRAG_MAX * 1400];
		static size_t l2[IKE_FRAG_MAX];
		static uint8_t copy[2048];
		int n2 =
		    ike_frag_split(a, plain, (size_t)pn, 1024, f2, sizeof(f2), l2, IKE_FRAG_MAX);

		CHECK_EQ(n2, n);
		memcpy(copy, f2, l2[0]);
		CHECK_EQ(ike_msg_parse(&m, copy, l2[0]), (int)l2[0]);
		CHECK_EQ(ike_frag_add(&reasm, a, copy, l2[0], &m), IKE_FRAG_WAIT);
		CHECK_EQ(reasm.msg_id, 2);
		CHECK_EQ(reasm.n_have, 1);
	}
	ike_frag_reset(&reasm);
	CHECK_EQ(reasm.used, 0);
	CHECK(!reasm.active);
	aead_free(a);
}
