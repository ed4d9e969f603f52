/*
 * ike/proposal: strongSwan proposal strings (accepted, refused with a
 * reason naming the token: RFC 8247, RFC 8221), and the responder's choice
 * per RFC 7296 §2.7 / §3.3.6 from table rows: our string, the peer's
 * offers, the KE payload's group, and the expected suite or Notify.
 */
#include "ike/proposal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/aead.h"
#include "crypto/ke.h"
#include "crypto/prf.h"
#include "tests/unit/suites.h"
#include "tests/unit/test.h"

/* ---- parsing ------------------------------------------------------------ */

static const struct {
	int proto;
	const char *str;
	unsigned legacy; /* IKE_LEGACY_* (1: MODP 1024 only, 3: both) */
	int n;           /* proposals expected, or -1 for an error */
	const char *err; /* substring of the message */
} parse_rows[] = {
    {IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519", false, 1, NULL},
    {IKE_PROTO_IKE, "aes256-sha256-modp2048", false, 1, NULL},
    {IKE_PROTO_IKE, "aes128-sha256-ecp256", false, 1, NULL},
    {IKE_PROTO_IKE, "chacha20poly1305-prfsha384-curve25519-ecp256", false, 1, NULL},
    {IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519,aes256-sha256-modp2048", false, 2, NULL},
    {IKE_PROTO_IKE, " aes256gcm16-prfsha256-x25519 , aes128-sha256-ecp256 ", false, 2, NULL},
    {IKE_PROTO_IKE, "default", false, 2, NULL},
    {IKE_PROTO_IKE, "aes256-sha256-modp2048,default", false, 3, NULL},
    /* AEAD and CBC in one string: split (RFC 7296 §3.3). */
    {IKE_PROTO_IKE, "aes256gcm16-aes256-sha256-prfsha256-ecp256", false, 2, NULL},
    /* SHA-1 is never dropped silently: taken with the legacy flag, or
     * refused naming the keyword and the option. */
    {IKE_PROTO_IKE, "aes256-sha1-sha256-modp2048", false, -1, "sha1: refused"},
    {IKE_PROTO_IKE, "aes256-sha256-sha1-modp1024", 1, -1, "allowed only with tunsec.legacy = yes"},
    {IKE_PROTO_IKE, "aes256-sha1-sha256-modp2048", 3, 1, NULL},
    {IKE_PROTO_IKE, "aes256-sha256-modp1024", true, 1, NULL},
    {IKE_PROTO_ESP, "aes256gcm16-esn", false, 1, NULL},
    {IKE_PROTO_ESP, "aes256gcm16", false, 1, NULL},
    {IKE_PROTO_ESP, "aes256-sha256-modp2048", false, 1, NULL},
    {IKE_PROTO_ESP, "default", false, 2, NULL},
    {IKE_PROTO_ESP, "AES256GCM16-ESN", false, 1, NULL},
    /* Refusals: RFC 8247 §2 / RFC 8221 §5-§6. */
    {IKE_PROTO_IKE, "des-sha256-modp2048", false, -1, "des: refused"},
    {IKE_PROTO_IKE, "3des-sha256-modp2048", false, -1, "3des: refused"},
    {IKE_PROTO_ESP, "null-sha256", false, -1, "null: refused"},
    {IKE_PROTO_IKE, "aes256-md5-modp2048", false, -1, "md5: refused"},
    {IKE_PROTO_IKE, "aes256-sha256-prfmd5-modp2048", false, -1, "prfmd5: refused"},
    {IKE_PROTO_IKE, "aes256-sha1-modp2048", false, -1, "sha1: refused"},
    {IKE_PROTO_ESP, "aes256-sha1", false, -1, "sha1: refused"},
    {IKE_PROTO_IKE, "aes256-sha256-prfsha1-modp2048", false, -1, "prfsha1: refused"},
    {IKE_PROTO_IKE, "aes256-sha256-prfsha1-prfsha256-modp2048", false, -1, "prfsha1: refused"},
    {IKE_PROTO_IKE, "aes256-sha256-prfsha1-prfsha256-modp2048", 3, 1, NULL},
    /* tunsec.legacy: Windows' default suite, AES-CBC only, never
     * DES/3DES/MD5. */
    {IKE_PROTO_IKE, "aes256-sha1-modp1024", 3, 1, NULL},
    {IKE_PROTO_ESP, "aes256-sha1", 3, 1, NULL},
    {IKE_PROTO_IKE, "aes256-sha1-modp1024", 1, -1, "sha1: refused"},
    {IKE_PROTO_IKE, "aes256gcm16-sha1-prfsha256-x25519", 3, -1, "integrity algorithm with only AEAD"},
    {IKE_PROTO_IKE, "3des-sha1-modp1024", 3, -1, "3des: refused"},
    {IKE_PROTO_IKE, "aes256-md5-modp1024", 3, -1, "md5: refused"},
    {IKE_PROTO_ESP, "des-sha1", 3, -1, "des: refused"},
    {IKE_PROTO_IKE, "default", 3, 3, NULL},
    {IKE_PROTO_ESP, "default", 3, 3, NULL},
    {IKE_PROTO_IKE, "default", 1, 2, NULL},
    {IKE_PROTO_IKE, "aes256gcm16-prfsha1-ecp256", false, -1, "prfsha1: refused"},
    {IKE_PROTO_IKE, "aes256-sha256-modp1024", false, -1, "modp1024: refused"},
    {IKE_PROTO_ESP, "aes256-sha256-modp1024", false, -1, "modp1024: refused"},
    {IKE_PROTO_IKE, "aes256-sha256-modp768", true, -1, "modp768: refused"},
    {IKE_PROTO_IKE, "aes192-sha256-modp2048", false, -1, "aes192: not implemented"},
    {IKE_PROTO_IKE, "aes256-sha256-blowfish", false, -1, "blowfish: unknown"},
    /* Shape errors. */
    {IKE_PROTO_IKE, "aes256gcm16-x25519", false, -1, "needs a prf"},
    {IKE_PROTO_IKE, "aes256-prfsha256-x25519", false, -1, "needs an integrity"},
    {IKE_PROTO_IKE, "aes256gcm16-prfsha256", false, -1, "key exchange group"},
    {IKE_PROTO_ESP, "aes256gcm16-sha256", false, -1, "sha256: integrity algorithm with only AEAD"},
    {IKE_PROTO_ESP, "aes256gcm16-prfsha256", false, -1, "prfsha256: a prf belongs"},
    {IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519-esn", false, -1, "esn: ESN applies"},
    {IKE_PROTO_IKE, "sha256-prfsha256-x25519", false, -1, "no encryption"},
    {IKE_PROTO_IKE, "aes256--sha256-x25519", false, -1, "empty algorithm"},
    {IKE_PROTO_IKE, "aes256-sha256-x25519,", false, -1, "empty proposal"},
    {IKE_PROTO_IKE, "", false, -1, "empty proposal"},
};

TEST(ike_proposal_rfc8247_parse_strongswan_strings_table)
{
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		struct ike_proposal_list l;
		char err[256];
		int rc = ike_proposal_parse(&l, parse_rows[i].proto, parse_rows[i].str,
		                            parse_rows[i].legacy, err, sizeof(err));

		if (parse_rows[i].n < 0) {
			if (rc != -EINVAL || !strstr(err, parse_rows[i].err))
				test_fail(__FILE__, __LINE__, "row %zu \"%s\": rc %d, err \"%s\"",
				          i, parse_rows[i].str, rc, err);
			CHECK_EQ(l.n, 0);
		} else if (rc != 0 || (int)l.n != parse_rows[i].n) {
			test_fail(__FILE__, __LINE__,
			          "row %zu \"%s\": rc %d, %zu proposals, err \"%s\"", i,
			          parse_rows[i].str, rc, l.n, err);
		}
	}
}

/* Each suite's name is its ESP keyword: one proposal, exactly that cipher. */
TEST(ike_proposal_every_test_suite_name_is_its_esp_proposal)
{
	for (const struct test_suite *t = test_suites; t->name; t++) {
		struct ike_proposal_list l;
		char err[256];

		REQUIRE_EQ(ike_proposal_parse(&l, IKE_PROTO_ESP, t->name, false, err, sizeof(err)),
		           0);
		REQUIRE_EQ(l.n, 1);
		CHECK_EQ(l.p[0].n_encr, 1);
		CHECK_EQ(l.p[0].encr[0].id, t->encr);
		/* RFC 7634 §2: ChaCha20-Poly1305 has no Key Length attribute. */
		CHECK_EQ(l.p[0].encr[0].key_bits, t->encr == ENCR_CHACHA20_POLY1305 ? 0 : t->bits);
		CHECK_EQ(l.p[0].n_integ, t->integ == AUTH_NONE ? 0 : 1);
		if (t->integ != AUTH_NONE)
			CHECK_EQ(l.p[0].integ[0], t->integ);
	}
}

TEST(ike_proposal_rfc7296_3_3_parsed_transform_sets)
{
	struct ike_proposal_list l;
	char err[256];

	CHECK_EQ(ike_proposal_parse(&l, IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519", false, err,
	                            sizeof(err)),
	         0);
	CHECK_EQ(l.p[0].proto, IKE_PROTO_IKE);
	CHECK_EQ(l.p[0].n_encr, 1);
	CHECK_EQ(l.p[0].encr[0].id, ENCR_AES_GCM_16);
	CHECK_EQ(l.p[0].encr[0].key_bits, 256);
	CHECK_EQ(l.p[0].n_prf, 1);
	CHECK_EQ(l.p[0].prf[0], PRF_HMAC_SHA2_256);
	CHECK_EQ(l.p[0].n_integ, 0);
	CHECK_EQ(l.p[0].n_ke, 1);
	CHECK_EQ(l.p[0].ke[0], KE_CURVE25519);
	CHECK_EQ(l.p[0].n_esn, 0);

	/* No prf named: the one matching the integrity algorithm. */
	CHECK_EQ(ike_proposal_parse(&l, IKE_PROTO_IKE, "aes256-sha384-modp2048", false, err,
	                            sizeof(err)),
	         0);
	CHECK_EQ(l.p[0].encr[0].id, ENCR_AES_CBC);
	CHECK_EQ(l.p[0].integ[0], AUTH_HMAC_SHA2_384_192);
	CHECK_EQ(l.p[0].n_prf, 1);
	CHECK_EQ(l.p[0].prf[0], PRF_HMAC_SHA2_384);
	CHECK_EQ(l.p[0].ke[0], KE_MODP_2048);

	CHECK_EQ(ike_proposal_parse(&l, IKE_PROTO_IKE,
	                            "chacha20poly1305-prfsha384-curve25519-ecp256", false, err,
	                            sizeof(err)),
	         0);
	CHECK_EQ(l.p[0].encr[0].id, ENCR_CHACHA20_POLY1305);
	CHECK_EQ(l.p[0].encr[0].key_bits, 0); /* RFC 7634 §2: no Key Length */
	CHECK_EQ(l.p[0].n_ke, 2);
	CHECK_EQ(l.p[0].ke[1], KE_ECP_256);

	/* Split: AEAD proposal first without integrity, then CBC with it. */
	CHECK_EQ(ike_proposal_parse(&l, IKE_PROTO_IKE, "aes256gcm16-aes128-sha256-prfsha512-ecp384",
	                            false, err, sizeof(err)),
	         0);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(l.p[0].encr[0].id, ENCR_AES_GCM_16);
	CHECK_EQ(l.p[0].n_integ, 0);
	CHECK_EQ(l.p[0].prf[0], PRF_HMAC_SHA2_512);
	CHECK_EQ(l.p[1].encr[0].id, ENCR_AES_CBC);
	CHECK_EQ(l.p[1].encr[0].key_bits, 128);
	CHECK_EQ(l.p[1].integ[0], AUTH_HMAC_SHA2_256_128);
	CHECK_EQ(l.p[1].ke[0], KE_ECP_384);

	/* ESP: ESN defaults to no; esn named gives ESN only. */
	CHECK_EQ(ike_proposal_parse(&l, IKE_PROTO_ESP, "aes256-sha256-modp2048", false, err,
	                            sizeof(err)),
	         0);
	CHECK_EQ(l.p[0].proto, IKE_PROTO_ESP);
	CHECK_EQ(l.p[0].n_esn, 1);
	CHECK_EQ(l.p[0].esn[0], IKE_ESN_NO);
	CHECK_EQ(l.p[0].ke[0], KE_MODP_2048);
	CHECK_EQ(l.p[0].n_prf, 0);
	CHECK_EQ(ike_proposal_parse(&l, IKE_PROTO_ESP, "aes256gcm16-esn", false, err, sizeof(err)),
	         0);
	CHECK_EQ(l.p[0].n_esn, 1);
	CHECK_EQ(l.p[0].esn[0], IKE_ESN_YES);
	CHECK_EQ(l.p[0].n_ke, 0);

	/* The message names the token and the reason. */
	CHECK_EQ(
	    ike_proposal_parse(&l, IKE_PROTO_IKE, "3des-sha256-modp2048", false, err, sizeof(err)),
	    -EINVAL);
	CHECK(strstr(err, "3des") && strstr(err, "RFC 8247"));
}

/* ---- selection ---------------------------------------------------------- */

/*
 * Offers in a compact form: proposals separated by ';', each
 * "NUM PROTO SPILEN: T..." with T one of E<id>[/<bits>], P<id>, I<id>,
 * K<id>, N<id> (ESN), X<type>:<id> (any type), and a trailing '!' marking
 * a transform with an unknown attribute.
 */
static size_t offers_build(const char *spec, struct ike_proposal *out, size_t cap)
{
	char buf[512], *save = NULL, *prop;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (prop = strtok_r(buf, ";", &save); prop && n < cap; prop = strtok_r(NULL, ";", &save)) {
		struct ike_proposal *o = &out[n++];
		char proto[8], *colon = strchr(prop, ':'), *save2 = NULL, *t;
		unsigned num, spi_len;

		memset(o, 0, sizeof(*o));
		if (!colon || sscanf(prop, "%u %7s %u", &num, proto, &spi_len) != 3)
			abort();
		o->num = (uint8_t)num;
		o->proto = strcmp(proto, "ike") == 0 ? IKE_PROTO_IKE : IKE_PROTO_ESP;
		o->spi_len = (uint8_t)spi_len;
		memset(o->spi, 0x5a, o->spi_len);
		for (t = strtok_r(colon + 1, " ", &save2); t; t = strtok_r(NULL, " ", &save2)) {
			struct ike_transform *x = &o->t[o->n_transforms++];
			unsigned a = 0, b = 0;

			x->unknown_attr = t[strlen(t) - 1] == '!';
			switch (t[0]) {
			case 'E':
				x->type = IKE_TRANS_ENCR;
				sscanf(t + 1, "%u/%u", &a, &b);
				x->key_bits = (uint16_t)b;
				break;
			case 'P':
				x->type = IKE_TRANS_PRF;
				sscanf(t + 1, "%u", &a);
				break;
			case 'I':
				x->type = IKE_TRANS_INTEG;
				sscanf(t + 1, "%u", &a);
				break;
			case 'K':
				x->type = IKE_TRANS_DH;
				sscanf(t + 1, "%u", &a);
				break;
			case 'N':
				x->type = IKE_TRANS_ESN;
				sscanf(t + 1, "%u", &a);
				break;
			case 'X':
				sscanf(t + 1, "%u:%u", &b, &a);
				x->type = (uint8_t)b;
				break;
			default:
				abort();
			}
			x->id = (uint16_t)a;
		}
	}
	return n;
}

/* Rows that expect NO_PROPOSAL_CHOSEN have no suite. */
#define NO_SUITE 0, 0, 0, 0, 0, 0, false

static const struct {
	const char *name;
	int proto;
	const char *ours;
	const char *offers;
	uint16_t peer_ke;
	unsigned flags;
	int rc;
	/* expected suite when rc is 0 or INVALID_KE */
	uint8_t num;
	uint16_t encr, key_bits, prf, integ, ke;
	bool esn;
} sel_rows[] = {
    {"aead exact", IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519", "1 ike 0: E20/256 P5 K31", 31, 0,
     0, 1, 20, 256, 5, 0, 31, false},
    {"first acceptable proposal in the peer's order", IKE_PROTO_IKE,
     "aes128-sha256-ecp256,aes256gcm16-prfsha256-x25519",
     "1 ike 0: E20/128 P5 K31; 2 ike 0: E20/256 P5 K31; 3 ike 0: E12/128 P5 I12 K19", 31, 0, 0, 2,
     20, 256, 5, 0, 31, false},
    {"transforms in the peer's order", IKE_PROTO_IKE,
     "aes128gcm16-aes256gcm16-prfsha256-prfsha512-x25519-ecp256",
     "1 ike 0: E20/256 E20/128 P7 P5 K19 K31", 19, 0, 0, 1, 20, 256, 7, 0, 19, false},
    {"key length must match", IKE_PROTO_IKE, "aes128-sha256-ecp256", "1 ike 0: E12/256 P5 I12 K19",
     19, 0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"AES without Key Length attribute", IKE_PROTO_IKE, "aes128-sha256-ecp256",
     "1 ike 0: E12 P5 I12 K19", 19, 0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"ChaCha20 with Key Length attribute (RFC 7634 §2)", IKE_PROTO_IKE,
     "chacha20poly1305-prfsha256-x25519", "1 ike 0: E28/256 P5 K31", 31, 0,
     IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"ChaCha20 without Key Length", IKE_PROTO_IKE, "chacha20poly1305-prfsha256-x25519",
     "1 ike 0: E28 P5 K31", 31, 0, 0, 1, 28, 0, 5, 0, 31, false},
    {"unknown attribute skips the transform (§3.3.6)", IKE_PROTO_IKE,
     "aes256gcm16-aes128gcm16-prfsha256-x25519", "1 ike 0: E20/256! E20/128 P5 K31", 31, 0, 0, 1,
     20, 128, 5, 0, 31, false},
    {"unknown transform type rejects the proposal (§3.3.6)", IKE_PROTO_IKE,
     "aes256gcm16-prfsha256-x25519", "1 ike 0: E20/256 P5 K31 X6:31; 2 ike 0: E20/256 P5 K31", 31,
     0, 0, 2, 20, 256, 5, 0, 31, false},
    {"missing PRF", IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519", "1 ike 0: E20/256 K31", 31, 0,
     IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"missing KE in IKE", IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519", "1 ike 0: E20/256 P5", 0,
     0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"CBC needs integrity", IKE_PROTO_IKE, "aes256-sha256-modp2048", "1 ike 0: E12/256 P5 K14", 14,
     0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"integrity NONE next to AEAD is fine", IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519",
     "1 ike 0: E20/256 P5 I0 K31", 31, 0, 0, 1, 20, 256, 5, 0, 31, false},
    {"AEAD not taken next to real integrity (RFC 5282 §8)", IKE_PROTO_IKE,
     "aes256gcm16-prfsha256-x25519,aes256-sha256-x25519", "1 ike 0: E20/256 E12/256 P5 I12 K31", 31,
     0, 0, 1, 12, 256, 5, 12, 31, false},
    {"wrong protocol", IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519", "1 esp 4: E20/256 N0", 0, 0,
     IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"bad IKE SPI size", IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519", "1 ike 4: E20/256 P5 K31",
     31, 0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"IKE rekey with 8-byte SPI", IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519",
     "1 ike 8: E20/256 P5 K31", 31, 0, 0, 1, 20, 256, 5, 0, 31, false},
    {"ESN in an IKE proposal", IKE_PROTO_IKE, "aes256gcm16-prfsha256-x25519",
     "1 ike 0: E20/256 P5 K31 N0", 31, 0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"INVALID_KE_PAYLOAD names our group (§1.2)", IKE_PROTO_IKE, "aes256gcm16-prfsha256-ecp256",
     "1 ike 0: E20/256 P5 K31 K19", 31, 0, IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD, 1, 20, 256, 5, 0,
     19, false},
    {"KE payload's group preferred when acceptable", IKE_PROTO_IKE,
     "aes256gcm16-prfsha256-x25519-ecp256", "1 ike 0: E20/256 P5 K31 K19", 19, 0, 0, 1, 20, 256, 5,
     0, 19, false},
    {"else the peer's first acceptable group", IKE_PROTO_IKE,
     "aes256gcm16-prfsha256-x25519-ecp256-modp2048", "1 ike 0: E20/256 P5 K14 K19 K31", 16, 0,
     IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD, 1, 20, 256, 5, 0, 14, false},
    {"modp1024 never matches without legacy config", IKE_PROTO_IKE, "aes256-sha256-modp2048",
     "1 ike 0: E12/256 P5 I12 K2", 2, 0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    /* ESP */
    {"esp aead no pfs", IKE_PROTO_ESP, "aes256gcm16-esn", "1 esp 4: E20/256 N1 N0", 0, 0, 0, 1, 20,
     256, 0, 0, 0, true},
    {"esp ESN in the peer's order", IKE_PROTO_ESP, "aes256gcm16-esn-noesn",
     "1 esp 4: E20/256 N0 N1", 0, 0, 0, 1, 20, 256, 0, 0, 0, false},
    {"esp ESN missing (mandatory, §3.3.3)", IKE_PROTO_ESP, "aes256gcm16", "1 esp 4: E20/256", 0, 0,
     IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"esp only esn offered, we want noesn", IKE_PROTO_ESP, "aes256gcm16", "1 esp 4: E20/256 N1", 0,
     0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"esp cbc with pfs", IKE_PROTO_ESP, "aes256-sha256-modp2048", "1 esp 4: E12/256 I12 K14 N0", 14,
     0, 0, 1, 12, 256, 0, 12, 14, false},
    {"esp pfs required but none offered", IKE_PROTO_ESP, "aes256-sha256-modp2048",
     "1 esp 4: E12/256 I12 N0", 0, 0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"esp no pfs configured, peer offers NONE among groups", IKE_PROTO_ESP, "aes256gcm16",
     "1 esp 4: E20/256 K14 K0 N0", 0, 0, 0, 1, 20, 256, 0, 0, 0, false},
    {"esp no pfs configured, peer insists on a group", IKE_PROTO_ESP, "aes256gcm16",
     "1 esp 4: E20/256 K14 N0", 14, 0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"esp in IKE_AUTH: KE transforms ignored (§1.2)", IKE_PROTO_ESP, "aes256-sha256-modp2048",
     "1 esp 4: E12/256 I12 K19 N0", 0, IKE_SELECT_NO_KE, 0, 1, 12, 256, 0, 12, 0, false},
    {"esp pfs group differs from KE payload", IKE_PROTO_ESP, "aes256gcm16-ecp256",
     "1 esp 4: E20/256 K31 K19 N0", 31, 0, IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD, 1, 20, 256, 0, 0,
     19, false},
    {"esp bad SPI size", IKE_PROTO_ESP, "aes256gcm16", "1 esp 0: E20/256 N0", 0, 0,
     IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"esp PRF in an ESP proposal", IKE_PROTO_ESP, "aes256gcm16", "1 esp 4: E20/256 P5 N0", 0, 0,
     IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN, NO_SUITE},
    {"nothing offered", IKE_PROTO_ESP, "aes256gcm16", "", 0, 0, IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN,
     NO_SUITE},
};

TEST(ike_proposal_rfc7296_2_7_3_3_6_selection_table)
{
	static struct ike_proposal offers[4];

	for (size_t i = 0; i < sizeof(sel_rows) / sizeof(sel_rows[0]); i++) {
		struct ike_proposal_list l;
		struct ike_suite s;
		char err[256];
		size_t n;
		int rc;

		if (ike_proposal_parse(&l, sel_rows[i].proto, sel_rows[i].ours, false, err,
		                       sizeof(err)) != 0) {
			test_fail(__FILE__, __LINE__, "%s: config: %s", sel_rows[i].name, err);
			continue;
		}
		n = offers_build(sel_rows[i].offers, offers, 4);
		rc = ike_proposal_select(l.p, l.n, offers, n, sel_rows[i].peer_ke,
		                         sel_rows[i].flags, &s);
		if (rc != sel_rows[i].rc) {
			test_fail(__FILE__, __LINE__, "%s: rc %d, want %d", sel_rows[i].name, rc,
			          sel_rows[i].rc);
			continue;
		}
		if (rc == IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN)
			continue;
		if (s.num != sel_rows[i].num || s.encr != sel_rows[i].encr ||
		    s.key_bits != sel_rows[i].key_bits || s.prf != sel_rows[i].prf ||
		    s.integ != sel_rows[i].integ || s.ke != sel_rows[i].ke ||
		    s.esn != sel_rows[i].esn || s.proto != sel_rows[i].proto ||
		    s.has_esn != (sel_rows[i].proto == IKE_PROTO_ESP))
			test_fail(__FILE__, __LINE__,
			          "%s: got num %u encr %u/%u prf %u integ %u ke %u esn %d",
			          sel_rows[i].name, s.num, s.encr, s.key_bits, s.prf, s.integ, s.ke,
			          s.esn);
	}
}

TEST(ike_proposal_rfc7296_2_7_offer_round_trip_and_reply_check)
{
	static struct ike_proposal ours_offer[IKE_PROPOSAL_MAX], reply, bad;
	struct ike_proposal_list l;
	struct ike_suite s, r;
	uint8_t spi[4] = {1, 2, 3, 4}, spi2[4] = {9, 9, 9, 9};
	char err[256];

	CHECK_EQ(ike_proposal_parse(&l, IKE_PROTO_ESP, "aes128gcm16-esn,aes256-sha512-ecp384",
	                            false, err, sizeof(err)),
	         0);
	/* Our offer, as the initiator sends it, selected by a responder
	 * with the same config: proposal 2 (the peer's first acceptable). */
	for (size_t i = 0; i < l.n; i++)
		ike_proposal_to_offer(&l.p[i], (uint8_t)(i + 1), spi, 4, 0, &ours_offer[i]);
	CHECK_EQ(ours_offer[1].n_transforms, 4);
	CHECK_EQ(ike_proposal_select(&l.p[1], 1, ours_offer, l.n, KE_ECP_384, 0, &s), 0);
	CHECK_EQ(s.num, 2);
	CHECK_MEM(s.spi, spi, 4);
	CHECK_EQ(s.integ, AUTH_HMAC_SHA2_512_256);
	CHECK_EQ(s.ke, KE_ECP_384);
	/* The responder's reply, checked by the initiator. */
	ike_suite_to_offer(&s, spi2, 4, &reply);
	CHECK_EQ(reply.n_transforms, 4);
	CHECK_EQ(ike_proposal_check_reply(l.p, l.n, &reply, 1, 0, &r), 0);
	CHECK_EQ(r.encr, ENCR_AES_CBC);
	CHECK_EQ(r.key_bits, 256);
	CHECK_EQ(r.ke, KE_ECP_384);
	CHECK_MEM(r.spi, spi2, 4);
	/* Two transforms of one type in a reply: refused (§2.7). */
	bad = reply;
	bad.t[bad.n_transforms++] = reply.t[0];
	CHECK_EQ(ike_proposal_check_reply(l.p, l.n, &bad, 1, 0, &r),
	         IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN);
	/* A transform we never offered: refused. */
	bad = reply;
	bad.t[0].key_bits = 128;
	CHECK_EQ(ike_proposal_check_reply(l.p, l.n, &bad, 1, 0, &r),
	         IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN);
	/* Two proposals in a reply: refused. */
	CHECK_EQ(ike_proposal_check_reply(l.p, l.n, ours_offer, 2, 0, &r),
	         IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN);
	/* IKE_AUTH child offer leaves KE out. */
	ike_proposal_to_offer(&l.p[1], 1, spi, 4, IKE_SELECT_NO_KE, &ours_offer[0]);
	CHECK_EQ(ours_offer[0].n_transforms, 3);
}

/* tunsec.legacy's per-SA warning stands on this (RFC 8247 §2.2-2.4). */
TEST(ike_proposal_rfc8247_suite_legacy_flags)
{
	struct ike_suite s;

	memset(&s, 0, sizeof(s));
	s.encr = ENCR_AES_CBC;
	s.key_bits = 256;
	s.integ = AUTH_HMAC_SHA2_256_128;
	s.prf = PRF_HMAC_SHA2_256;
	s.ke = KE_CURVE25519;
	CHECK_EQ(ike_suite_legacy(&s), 0);
	s.ke = KE_MODP_1024;
	CHECK_EQ(ike_suite_legacy(&s), IKE_LEGACY_MODP1024);
	s.integ = AUTH_HMAC_SHA1_96;
	CHECK_EQ(ike_suite_legacy(&s), IKE_LEGACY_MODP1024 | IKE_LEGACY_SHA1);
	s.ke = KE_NONE;
	s.integ = AUTH_HMAC_SHA2_256_128;
	s.prf = PRF_HMAC_SHA1;
	CHECK_EQ(ike_suite_legacy(&s), IKE_LEGACY_SHA1);
}
