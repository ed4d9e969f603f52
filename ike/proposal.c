/*
 * IKEv2 proposals: strongSwan-style strings to transform sets, and the
 * responder's selection (RFC 7296 §2.7, §3.3.6); see proposal.h.
 */
#include "ike/proposal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "crypto/aead.h"
#include "crypto/ke.h"
#include "crypto/prf.h"

/* ---- parsing ----------------------------------------------------------- */

enum tok_kind { T_ENCR, T_INTEG, T_PRF, T_KE, T_ESN, T_REFUSE };

struct token {
	const char *name;
	enum tok_kind kind;
	uint16_t id;
	uint16_t key_bits;
	const char *why; /* T_REFUSE: the reason */
};

#define NOT_IMPL "not implemented by tunsec"

static const struct token tokens[] = {
    {"aes128", T_ENCR, ENCR_AES_CBC, 128, NULL},
    {"aes256", T_ENCR, ENCR_AES_CBC, 256, NULL},
    {"aes128gcm16", T_ENCR, ENCR_AES_GCM_16, 128, NULL},
    {"aes128gcm128", T_ENCR, ENCR_AES_GCM_16, 128, NULL},
    {"aes256gcm16", T_ENCR, ENCR_AES_GCM_16, 256, NULL},
    {"aes256gcm128", T_ENCR, ENCR_AES_GCM_16, 256, NULL},
    {"chacha20poly1305", T_ENCR, ENCR_CHACHA20_POLY1305, 0, NULL},
    {"sha256", T_INTEG, AUTH_HMAC_SHA2_256_128, 0, NULL},
    {"sha2_256", T_INTEG, AUTH_HMAC_SHA2_256_128, 0, NULL},
    {"sha384", T_INTEG, AUTH_HMAC_SHA2_384_192, 0, NULL},
    {"sha2_384", T_INTEG, AUTH_HMAC_SHA2_384_192, 0, NULL},
    {"sha512", T_INTEG, AUTH_HMAC_SHA2_512_256, 0, NULL},
    {"sha2_512", T_INTEG, AUTH_HMAC_SHA2_512_256, 0, NULL},
    {"prfsha256", T_PRF, PRF_HMAC_SHA2_256, 0, NULL},
    {"prfsha384", T_PRF, PRF_HMAC_SHA2_384, 0, NULL},
    {"prfsha512", T_PRF, PRF_HMAC_SHA2_512, 0, NULL},
    {"modp2048", T_KE, KE_MODP_2048, 0, NULL},
    {"modp3072", T_KE, KE_MODP_3072, 0, NULL},
    {"modp4096", T_KE, KE_MODP_4096, 0, NULL},
    {"ecp256", T_KE, KE_ECP_256, 0, NULL},
    {"ecp384", T_KE, KE_ECP_384, 0, NULL},
    {"ecp521", T_KE, KE_ECP_521, 0, NULL},
    {"curve25519", T_KE, KE_CURVE25519, 0, NULL},
    {"x25519", T_KE, KE_CURVE25519, 0, NULL},
    {"esn", T_ESN, IKE_ESN_YES, 0, NULL},
    {"noesn", T_ESN, IKE_ESN_NO, 0, NULL},
    /* Legacy (legacy()): refused unless the caller's flag admits them,
     * never dropped without a word. */
    {"modp1024", T_KE, KE_MODP_1024, 0, NULL},
    {"sha1", T_INTEG, AUTH_HMAC_SHA1_96, 0, NULL},
    {"sha", T_INTEG, AUTH_HMAC_SHA1_96, 0, NULL},
    {"prfsha1", T_PRF, PRF_HMAC_SHA1, 0, NULL},
    {"des", T_REFUSE, 0, 0, "refused: single DES is broken (RFC 8247 §2.1, RFC 8221 §5: MUST NOT)"},
    {"3des", T_REFUSE, 0, 0,
     "refused: 64-bit block cipher, deprecated (RFC 8247 §2.1, RFC 8221 §5)"},
    {"null", T_REFUSE, 0, 0, "refused: ENCR_NULL gives no confidentiality (RFC 8221 §5)"},
    {"md5", T_REFUSE, 0, 0, "refused: HMAC-MD5 is deprecated (RFC 8247 §2.3: MUST NOT)"},
    {"md5_128", T_REFUSE, 0, 0, "refused: HMAC-MD5 is deprecated (RFC 8247 §2.3: MUST NOT)"},
    {"prfmd5", T_REFUSE, 0, 0, "refused: PRF_HMAC_MD5 is deprecated (RFC 8247 §2.2: MUST NOT)"},
    {"modp768", T_REFUSE, 0, 0, "refused: 768-bit MODP is far too weak (RFC 8247 §2.4: MUST NOT)"},
    {"modp1536", T_REFUSE, 0, 0, "refused: 1536-bit MODP is too weak (RFC 8247 §2.4); " NOT_IMPL},
    {"ecp192", T_REFUSE, 0, 0, "refused: too weak; " NOT_IMPL},
    {"ecp224", T_REFUSE, 0, 0, "refused: too weak; " NOT_IMPL},
    {"aes192", T_REFUSE, 0, 0, NOT_IMPL " (use aes128 or aes256)"},
    {"aes192gcm16", T_REFUSE, 0, 0, NOT_IMPL " (use aes128gcm16 or aes256gcm16)"},
    {"aes128gcm8", T_REFUSE, 0, 0, NOT_IMPL " (8-byte ICV; use aes128gcm16)"},
    {"aes256gcm8", T_REFUSE, 0, 0, NOT_IMPL " (8-byte ICV; use aes256gcm16)"},
    {"aes128gcm12", T_REFUSE, 0, 0, NOT_IMPL " (12-byte ICV; use aes128gcm16)"},
    {"aes256gcm12", T_REFUSE, 0, 0, NOT_IMPL " (12-byte ICV; use aes256gcm16)"},
    {"aesxcbc", T_REFUSE, 0, 0, NOT_IMPL " (use sha256)"},
    {"prfaesxcbc", T_REFUSE, 0, 0, NOT_IMPL " (use prfsha256)"},
    {"prfaescmac", T_REFUSE, 0, 0, NOT_IMPL " (use prfsha256)"},
};

struct acc {
	struct ike_proposal_conf aead, classic; /* encr lists split by kind */
	const char *first_integ; /* for messages */
	const char *sha1;        /* the SHA-1 keyword named, for messages */
};

/* Which legacy flag a token needs, 0 for none. */
static unsigned legacy_need(const struct token *t)
{
	if (t->kind == T_KE && t->id == KE_MODP_1024)
		return IKE_LEGACY_MODP1024;
	if ((t->kind == T_INTEG && t->id == AUTH_HMAC_SHA1_96) ||
	    (t->kind == T_PRF && t->id == PRF_HMAC_SHA1))
		return IKE_LEGACY_SHA1;
	return 0;
}

static void set_err(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!err || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

bool ike_encr_is_aead(int encr)
{
	return encr == ENCR_AES_GCM_16 || encr == ENCR_CHACHA20_POLY1305;
}

static bool add16(uint16_t *list, uint8_t *n, uint16_t v)
{
	for (uint8_t i = 0; i < *n; i++)
		if (list[i] == v)
			return true; /* duplicates collapse */
	if (*n >= IKE_PROPOSAL_MAX_ALGS)
		return false;
	list[(*n)++] = v;
	return true;
}

static bool add_encr(struct ike_proposal_conf *p, uint16_t id, uint16_t bits)
{
	for (uint8_t i = 0; i < p->n_encr; i++)
		if (p->encr[i].id == id && p->encr[i].key_bits == bits)
			return true;
	if (p->n_encr >= IKE_PROPOSAL_MAX_ALGS)
		return false;
	p->encr[p->n_encr].id = id;
	p->encr[p->n_encr].key_bits = bits;
	p->n_encr++;
	return true;
}

/* One token into the accumulator; 0 or -EINVAL with err set. */
static int take(struct acc *a, int proto, const char *tok, size_t len, unsigned legacy, char *err,
                size_t cap)
{
	const struct token *t = NULL;
	struct ike_proposal_conf *c = &a->classic;
	bool ok = true;

	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		if (strlen(tokens[i].name) == len && strncasecmp(tokens[i].name, tok, len) == 0)
			t = &tokens[i];
	if (!t) {
		set_err(err, cap, "%.*s: unknown algorithm", (int)len, tok);
		return -EINVAL;
	}
	if (t->kind == T_REFUSE) {
		set_err(err, cap, "%s: %s", t->name, t->why);
		return -EINVAL;
	}
	if (legacy_need(t) & ~legacy) {
		set_err(err, cap, "%s: refused: %s; allowed only with tunsec.legacy = yes%s", t->name,
		        t->kind == T_KE ? "1024-bit MODP is too weak (RFC 8247 §2.4: SHOULD NOT)"
		        : t->kind == T_PRF
		            ? "PRF_HMAC_SHA1 is being phased out (RFC 8247 §2.2: SHOULD NOT)"
		            : "HMAC-SHA1-96 is being phased out (RFC 8247 §2.3, RFC 8221 §6)",
		        t->kind == T_KE ? " (or tunsec.legacy_groups = yes)" : "");
		return -EINVAL;
	}
	if (t->kind == T_PRF && proto != IKE_PROTO_IKE) {
		set_err(err, cap, "%s: a prf belongs in IKE proposals, not ESP", t->name);
		return -EINVAL;
	}
	if (t->kind == T_ESN && proto != IKE_PROTO_ESP) {
		set_err(err, cap, "%s: ESN applies to ESP proposals, not IKE", t->name);
		return -EINVAL;
	}
	switch (t->kind) {
	case T_ENCR:
		ok = add_encr(ike_encr_is_aead(t->id) ? &a->aead : c, t->id, t->key_bits);
		break;
	case T_INTEG:
		ok = add16(c->integ, &c->n_integ, t->id);
		if (!a->first_integ)
			a->first_integ = t->name;
		if (t->id == AUTH_HMAC_SHA1_96)
			a->sha1 = t->name;
		break;
	case T_PRF:
		ok = add16(c->prf, &c->n_prf, t->id);
		break;
	case T_KE:
		ok = add16(c->ke, &c->n_ke, t->id);
		break;
	case T_ESN:
		ok = add16(c->esn, &c->n_esn, t->id);
		break;
	case T_REFUSE:
		break;
	}
	if (!ok) {
		set_err(err, cap, "%s: too many algorithms of this kind in one proposal", t->name);
		return -EINVAL;
	}
	return 0;
}

static int push(struct ike_proposal_list *out, const struct ike_proposal_conf *p, char *err,
                size_t cap)
{
	if (out->n >= IKE_PROPOSAL_MAX) {
		set_err(err, cap, "too many proposals (at most %d)", IKE_PROPOSAL_MAX);
		return -EINVAL;
	}
	out->p[out->n++] = *p;
	return 0;
}

/* RFC 4868 §2: the prf matching each HMAC-SHA2 integrity algorithm. */
static uint16_t prf_for_integ(uint16_t integ)
{
	return integ == AUTH_HMAC_SHA1_96        ? PRF_HMAC_SHA1
	       : integ == AUTH_HMAC_SHA2_256_128 ? PRF_HMAC_SHA2_256
	       : integ == AUTH_HMAC_SHA2_384_192 ? PRF_HMAC_SHA2_384
	                                         : PRF_HMAC_SHA2_512;
}

/* Check one accumulated proposal and append it (split AEAD / classic). */
static int finish(struct ike_proposal_list *out, struct acc *a, int proto, char *err, size_t cap)
{
	struct ike_proposal_conf *c = &a->classic;
	bool has_aead = a->aead.n_encr > 0, has_classic = c->n_encr > 0;
	int rc;

	if (!has_aead && !has_classic) {
		set_err(err, cap, "proposal has no encryption algorithm (e.g. aes256gcm16)");
		return -EINVAL;
	}
	/* The legacy suite is AES-CBC's only: an AEAD cipher next to sha1
	 * is refused below like any integrity algorithm next to one. */
	if (has_classic && c->n_integ == 0) {
		set_err(err, cap,
		        "proposal with a non-AEAD cipher needs an integrity algorithm "
		        "(e.g. sha256)");
		return -EINVAL;
	}
	if (!has_classic && c->n_integ > 0 && (proto == IKE_PROTO_ESP || c->n_prf > 0)) {
		set_err(err, cap,
		        "%s: integrity algorithm with only AEAD ciphers (RFC 7296 "
		        "§3.3 forbids combining them)",
		        a->first_integ);
		return -EINVAL;
	}
	if (proto == IKE_PROTO_IKE) {
		/* No prf named: the ones matching the integrity algorithms,
		 * as strongSwan does. */
		for (uint8_t i = 0; c->n_prf == 0 && i < c->n_integ; i++)
			add16(c->prf, &c->n_prf, prf_for_integ(c->integ[i]));
		if (c->n_prf == 0) {
			set_err(err, cap, "IKE proposal needs a prf (e.g. prfsha256)");
			return -EINVAL;
		}
		if (c->n_ke == 0) {
			set_err(err, cap,
			        "IKE proposal needs a key exchange group (e.g. "
			        "curve25519)");
			return -EINVAL;
		}
	} else if (c->n_esn == 0) {
		c->esn[c->n_esn++] = IKE_ESN_NO; /* strongSwan's default */
	}
	c->proto = (uint8_t)proto;
	if (has_aead) {
		struct ike_proposal_conf p = *c;

		memcpy(p.encr, a->aead.encr, sizeof(p.encr));
		p.n_encr = a->aead.n_encr;
		p.n_integ = 0;
		if ((rc = push(out, &p, err, cap)) < 0)
			return rc;
	}
	if (has_classic && (rc = push(out, c, err, cap)) < 0)
		return rc;
	return 0;
}

/* What `default` stands for: AEAD first, then AES-CBC + HMAC-SHA2, with
 * the groups RFC 8247 §2.4 recommends, fastest first. */
static const char default_ike[] =
    "aes256gcm16-aes128gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-"
    "curve25519-ecp256-ecp384-ecp521-modp3072-modp4096-modp2048,"
    "aes256-aes128-sha256-sha384-sha512-"
    "curve25519-ecp256-ecp384-ecp521-modp3072-modp4096-modp2048";
static const char default_esp[] = "aes256gcm16-aes128gcm16-chacha20poly1305-noesn-esn,"
                                  "aes256-aes128-sha256-sha384-sha512-noesn-esn";
/* With IKE_LEGACY_SHA1 `default` ends with Windows' default suite (AES-CBC,
 * HMAC-SHA1-96, PRF_HMAC_SHA1, MODP 1024; ESP AES-CBC with HMAC-SHA1-96),
 * in a proposal of its own so that no modern suite mixes with it. */
static const char legacy_ike[] = "aes256-aes128-sha1-prfsha1-modp1024";
static const char legacy_esp[] = "aes256-aes128-sha1-noesn";

static int parse_one(struct ike_proposal_list *out, int proto, const char *s, size_t len,
                     unsigned legacy, char *err, size_t cap);

static int parse_list(struct ike_proposal_list *out, int proto, const char *str, unsigned legacy,
                      bool top, char *err, size_t cap)
{
	const char *p = str;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int rc;

		/* Blanks around commas are fine; inside a proposal they are not. */
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			set_err(err, cap, "empty proposal in \"%s\"", str);
			return -EINVAL;
		}
		if (top && len == 7 && strncasecmp(p, "default", 7) == 0) {
			rc = parse_list(out, proto,
			                proto == IKE_PROTO_IKE ? default_ike : default_esp, legacy,
			                false, err, cap);
			if (rc == 0 && (legacy & IKE_LEGACY_SHA1))
				rc = parse_list(out, proto,
				                proto == IKE_PROTO_IKE ? legacy_ike : legacy_esp,
				                legacy, false, err, cap);
		} else
			rc = parse_one(out, proto, p, len, legacy, err, cap);
		if (rc < 0)
			return rc;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int parse_one(struct ike_proposal_list *out, int proto, const char *s, size_t len,
                     unsigned legacy, char *err, size_t cap)
{
	struct acc a;
	size_t i = 0;

	memset(&a, 0, sizeof(a));
	while (i <= len) {
		size_t j = i;
		int rc;

		while (j < len && s[j] != '-')
			j++;
		if (j == i) {
			set_err(err, cap, "empty algorithm in \"%.*s\"", (int)len, s);
			return -EINVAL;
		}
		if ((rc = take(&a, proto, s + i, j - i, legacy, err, cap)) < 0)
			return rc;
		i = j + 1;
	}
	return finish(out, &a, proto, err, cap);
}

int ike_proposal_parse(struct ike_proposal_list *out, int proto, const char *str, unsigned allow_legacy,
                       char *err, size_t err_cap)
{
	int rc;

	if (err && err_cap)
		err[0] = '\0';
	if (!out || !str || (proto != IKE_PROTO_IKE && proto != IKE_PROTO_ESP)) {
		set_err(err, err_cap, "bad arguments");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	rc = parse_list(out, proto, str, allow_legacy, true, err, err_cap);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- selection --------------------------------------------------------- */

static bool in16(const uint16_t *list, uint8_t n, uint16_t v)
{
	for (uint8_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

static bool encr_ok(const struct ike_proposal_conf *c, const struct ike_transform *x)
{
	if (x->unknown_attr)
		return false;
	/* RFC 7634 §2: no Key Length for ChaCha20-Poly1305; AES needs one
	 * (RFC 3602 §5.3 via RFC 7296 §3.3.5, RFC 5282 §8). Equality with
	 * our configured length covers both. */
	for (uint8_t i = 0; i < c->n_encr; i++)
		if (c->encr[i].id == x->id && c->encr[i].key_bits == x->key_bits)
			return true;
	return false;
}

/* Other transform types take no attributes at all (§3.3.5). */
static bool plain_ok(const struct ike_transform *x)
{
	return !x->unknown_attr && x->key_bits == 0;
}

/*
 * Try offer o against our proposal c. 0 with *out filled, 1 if the only
 * trouble is the KE group (out->ke is the one to ask for), -1 if c does not
 * accept o.
 */
static int match(const struct ike_proposal_conf *c, const struct ike_proposal *o, uint16_t peer_ke,
                 unsigned flags, struct ike_suite *out)
{
	bool is_ike = o->proto == IKE_PROTO_IKE, no_ke = flags & IKE_SELECT_NO_KE;
	bool has[6] = {false}, aead_ok_here = true, found_ke = false, peer_ke_ok = false;
	int encr = -1, prf = -1, integ = -1, esn = -1;
	uint16_t ke = 0;

	if (c->proto != o->proto)
		return -1;
	for (size_t i = 0; i < o->n_transforms; i++) {
		const struct ike_transform *x = &o->t[i];

		/* §3.3.6: a proposal with a type we do not know, or one that
		 * does not belong to the protocol, is unacceptable. */
		if (x->type < IKE_TRANS_ENCR || x->type > IKE_TRANS_ESN ||
		    (is_ike && x->type == IKE_TRANS_ESN) || (!is_ike && x->type == IKE_TRANS_PRF))
			return -1;
		has[x->type] = true;
		if (x->type == IKE_TRANS_INTEG && x->id != AUTH_NONE)
			aead_ok_here = false;
	}
	if (!has[IKE_TRANS_ENCR] || (is_ike && (!has[IKE_TRANS_PRF] || !has[IKE_TRANS_DH])) ||
	    (!is_ike && !has[IKE_TRANS_ESN]))
		return -1;

	for (size_t i = 0; i < o->n_transforms; i++) {
		const struct ike_transform *x = &o->t[i];

		switch (x->type) {
		case IKE_TRANS_ENCR:
			if (encr < 0 && encr_ok(c, x) && (!ike_encr_is_aead(x->id) || aead_ok_here))
				encr = (int)i;
			break;
		case IKE_TRANS_PRF:
			if (prf < 0 && plain_ok(x) && in16(c->prf, c->n_prf, x->id))
				prf = (int)i;
			break;
		case IKE_TRANS_INTEG:
			if (integ < 0 && plain_ok(x) && x->id != AUTH_NONE &&
			    in16(c->integ, c->n_integ, x->id))
				integ = (int)i;
			break;
		case IKE_TRANS_DH:
			if (no_ke || !plain_ok(x))
				break;
			/* ESP without PFS configured takes only NONE; IKE never
			 * does. */
			if (x->id == KE_NONE ? (!is_ike && c->n_ke == 0)
			                     : in16(c->ke, c->n_ke, x->id)) {
				if (!found_ke)
					ke = x->id;
				found_ke = true;
				if (x->id == peer_ke)
					peer_ke_ok = true;
			}
			break;
		case IKE_TRANS_ESN:
			if (esn < 0 && plain_ok(x) && in16(c->esn, c->n_esn, x->id))
				esn = (int)i;
			break;
		}
	}
	if (encr < 0 || (is_ike && prf < 0) || (!is_ike && esn < 0))
		return -1;
	if (!ike_encr_is_aead(o->t[encr].id) && integ < 0)
		return -1;
	/* KE: IKE needs a group; ESP needs one when PFS is configured, or
	 * when the peer offered only groups (an ESP offer with no KE
	 * transform means no PFS, fine if we configured none). */
	if (!no_ke) {
		if (has[IKE_TRANS_DH] && !found_ke)
			return -1;
		if (!has[IKE_TRANS_DH] && c->n_ke > 0)
			return -1;
	}

	memset(out, 0, sizeof(*out));
	out->num = o->num;
	out->proto = o->proto;
	out->spi_len = o->spi_len;
	memcpy(out->spi, o->spi, o->spi_len);
	out->encr = o->t[encr].id;
	out->key_bits = o->t[encr].key_bits;
	out->prf = is_ike ? o->t[prf].id : 0;
	out->integ = ike_encr_is_aead(out->encr) ? AUTH_NONE : o->t[integ].id;
	out->has_esn = !is_ike;
	out->esn = !is_ike && o->t[esn].id == IKE_ESN_YES;
	if (peer_ke_ok && peer_ke != KE_NONE)
		ke = peer_ke;
	out->ke = no_ke ? KE_NONE : ke;
	/* §1.2 / §1.3: the KE payload must be for the chosen group. */
	if (!no_ke && out->ke != KE_NONE && out->ke != peer_ke)
		return 1;
	return 0;
}

static bool spi_len_ok(const struct ike_proposal *o)
{
	/* §3.3.1: IKE SPIs are 8 bytes in a rekey and absent in IKE_SA_INIT;
	 * ESP SPIs are 4 bytes. */
	return o->proto == IKE_PROTO_IKE ? (o->spi_len == 0 || o->spi_len == 8) : o->spi_len == 4;
}

int ike_proposal_select(const struct ike_proposal_conf *ours, size_t n_ours,
                        const struct ike_proposal *offers, size_t n_offers, uint16_t peer_ke,
                        unsigned flags, struct ike_suite *out)
{
	if (!ours || !offers || !out)
		return -EINVAL;
	for (size_t i = 0; i < n_offers; i++) {
		const struct ike_proposal *o = &offers[i];

		if (!spi_len_ok(o) || o->n_transforms > IKE_MAX_TRANSFORMS)
			continue;
		for (size_t j = 0; j < n_ours; j++) {
			int rc = match(&ours[j], o, peer_ke, flags, out);

			if (rc == 0)
				return 0;
			if (rc == 1)
				return IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD;
		}
	}
	memset(out, 0, sizeof(*out));
	return IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN;
}

int ike_proposal_check_reply(const struct ike_proposal_conf *ours, size_t n_ours,
                             const struct ike_proposal *reply, size_t n_reply, unsigned flags,
                             struct ike_suite *out)
{
	uint8_t count[6] = {0};
	uint16_t ke = KE_NONE;
	int rc;

	if (!ours || !reply || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (n_reply != 1 || reply->n_transforms > IKE_MAX_TRANSFORMS)
		return IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN;
	for (size_t i = 0; i < reply->n_transforms; i++) {
		uint8_t t = reply->t[i].type;

		if (t < IKE_TRANS_ENCR || t > IKE_TRANS_ESN || ++count[t] > 1)
			return IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN;
	}
	/* The group is whatever the single KE transform says: pass it as the
	 * "KE payload's" so that the only check is that we offered it. */
	for (size_t i = 0; i < reply->n_transforms; i++)
		if (reply->t[i].type == IKE_TRANS_DH)
			ke = reply->t[i].id;
	rc = ike_proposal_select(ours, n_ours, reply, 1, ke, flags, out);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		return IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN;
	}
	return 0;
}

static void put(struct ike_proposal *o, uint8_t type, uint16_t id, uint16_t bits)
{
	if (o->n_transforms >= IKE_MAX_TRANSFORMS)
		return;
	o->t[o->n_transforms].type = type;
	o->t[o->n_transforms].id = id;
	o->t[o->n_transforms].key_bits = bits;
	o->t[o->n_transforms].unknown_attr = false;
	o->n_transforms++;
}

static void offer_head(struct ike_proposal *o, uint8_t num, uint8_t proto, const uint8_t *spi,
                       size_t spi_len)
{
	memset(o, 0, sizeof(*o));
	o->num = num;
	o->proto = proto;
	o->spi_len = (uint8_t)(spi_len <= 8 ? spi_len : 8);
	if (spi && o->spi_len)
		memcpy(o->spi, spi, o->spi_len);
}

void ike_proposal_to_offer(const struct ike_proposal_conf *p, uint8_t num, const uint8_t *spi,
                           size_t spi_len, unsigned flags, struct ike_proposal *out)
{
	offer_head(out, num, p->proto, spi, spi_len);
	for (uint8_t i = 0; i < p->n_encr; i++)
		put(out, IKE_TRANS_ENCR, p->encr[i].id, p->encr[i].key_bits);
	for (uint8_t i = 0; i < p->n_prf; i++)
		put(out, IKE_TRANS_PRF, p->prf[i], 0);
	for (uint8_t i = 0; i < p->n_integ; i++)
		put(out, IKE_TRANS_INTEG, p->integ[i], 0);
	for (uint8_t i = 0; !(flags & IKE_SELECT_NO_KE) && i < p->n_ke; i++)
		put(out, IKE_TRANS_DH, p->ke[i], 0);
	for (uint8_t i = 0; i < p->n_esn; i++)
		put(out, IKE_TRANS_ESN, p->esn[i], 0);
}

void ike_suite_to_offer(const struct ike_suite *s, const uint8_t *spi, size_t spi_len,
                        struct ike_proposal *out)
{
	offer_head(out, s->num, s->proto, spi, spi_len);
	put(out, IKE_TRANS_ENCR, s->encr, s->key_bits);
	if (s->proto == IKE_PROTO_IKE)
		put(out, IKE_TRANS_PRF, s->prf, 0);
	if (s->integ != AUTH_NONE)
		put(out, IKE_TRANS_INTEG, s->integ, 0);
	if (s->ke != KE_NONE)
		put(out, IKE_TRANS_DH, s->ke, 0);
	if (s->has_esn)
		put(out, IKE_TRANS_ESN, s->esn ? IKE_ESN_YES : IKE_ESN_NO, 0);
}

/* The first keyword naming transform id of this kind (and key size). */
static const char *token_name(enum tok_kind kind, uint16_t id, uint16_t key_bits)
{
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		if (tokens[i].kind == kind && tokens[i].id == id && tokens[i].key_bits == key_bits)
			return tokens[i].name;
	return NULL;
}

char *ike_suite_str(const struct ike_suite *s, char *out, size_t cap)
{
	const char *parts[5];
	size_t n = 0, len = 0;

	if (!cap)
		return out;
	parts[n] = token_name(T_ENCR, s->encr, s->encr == ENCR_CHACHA20_POLY1305 ? 0 : s->key_bits);
	n += parts[n] != NULL;
	if (s->integ && (parts[n] = token_name(T_INTEG, s->integ, 0)))
		n++;
	if (s->prf && (parts[n] = token_name(T_PRF, s->prf, 0)))
		n++;
	if (s->ke && (parts[n] = token_name(T_KE, s->ke, 0)))
		n++;
	if (s->has_esn && s->esn)
		parts[n++] = "esn";
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + len, cap - len, "%s%s", i ? "-" : "", parts[i]);

		if (w < 0 || (size_t)w >= cap - len) {
			out[len] = '\0'; /* whole keywords only */
			break;
		}
		len += (size_t)w;
	}
	return out;
}

/* Names of every transform a peer may offer, including those we refuse
 * (for logs only; selection uses tokens[]). A cipher with a Key Length
 * attribute is named prefix, bits, suffix: "aes" 256 "gcm16". */
struct offer_name {
	uint8_t type;
	uint16_t id;
	const char *name;
	const char *suffix;
};

static const struct offer_name offer_names[] = {
    {IKE_TRANS_ENCR, 2, "des", ""},
    {IKE_TRANS_ENCR, IKE_ENCR_3DES, "3des", ""},
    {IKE_TRANS_ENCR, IKE_ENCR_NULL, "null", ""},
    {IKE_TRANS_ENCR, IKE_ENCR_AES_CBC, "aes", ""},
    {IKE_TRANS_ENCR, IKE_ENCR_AES_CTR, "aes", "ctr"},
    {IKE_TRANS_ENCR, IKE_ENCR_AES_CCM_16, "aes", "ccm16"},
    {IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_8, "aes", "gcm8"},
    {IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_12, "aes", "gcm12"},
    {IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, "aes", "gcm16"},
    {IKE_TRANS_ENCR, IKE_ENCR_CAMELLIA_CBC, "camellia", ""},
    {IKE_TRANS_ENCR, IKE_ENCR_CHACHA20_POLY1305, "chacha20poly1305", ""},
    {IKE_TRANS_PRF, IKE_PRF_HMAC_MD5, "prfmd5", ""},
    {IKE_TRANS_PRF, IKE_PRF_HMAC_SHA1, "prfsha1", ""},
    {IKE_TRANS_PRF, IKE_PRF_AES128_XCBC, "prfaesxcbc", ""},
    {IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_256, "prfsha256", ""},
    {IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_384, "prfsha384", ""},
    {IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_512, "prfsha512", ""},
    {IKE_TRANS_PRF, IKE_PRF_AES128_CMAC, "prfaescmac", ""},
    {IKE_TRANS_INTEG, IKE_INTEG_HMAC_MD5_96, "md5", ""},
    {IKE_TRANS_INTEG, IKE_INTEG_HMAC_SHA1_96, "sha1", ""},
    {IKE_TRANS_INTEG, IKE_INTEG_AES_XCBC_96, "aesxcbc", ""},
    {IKE_TRANS_INTEG, IKE_INTEG_AES_CMAC_96, "aescmac", ""},
    {IKE_TRANS_INTEG, IKE_INTEG_HMAC_SHA2_256_128, "sha256", ""},
    {IKE_TRANS_INTEG, IKE_INTEG_HMAC_SHA2_384_192, "sha384", ""},
    {IKE_TRANS_INTEG, IKE_INTEG_HMAC_SHA2_512_256, "sha512", ""},
    {IKE_TRANS_DH, 1, "modp768", ""},
    {IKE_TRANS_DH, IKE_DH_MODP_1024, "modp1024", ""},
    {IKE_TRANS_DH, IKE_DH_MODP_1536, "modp1536", ""},
    {IKE_TRANS_DH, IKE_DH_MODP_2048, "modp2048", ""},
    {IKE_TRANS_DH, IKE_DH_MODP_3072, "modp3072", ""},
    {IKE_TRANS_DH, IKE_DH_MODP_4096, "modp4096", ""},
    {IKE_TRANS_DH, IKE_DH_MODP_6144, "modp6144", ""},
    {IKE_TRANS_DH, IKE_DH_MODP_8192, "modp8192", ""},
    {IKE_TRANS_DH, IKE_DH_ECP_256, "ecp256", ""},
    {IKE_TRANS_DH, IKE_DH_ECP_384, "ecp384", ""},
    {IKE_TRANS_DH, IKE_DH_ECP_521, "ecp521", ""},
    {IKE_TRANS_DH, IKE_DH_CURVE25519, "curve25519", ""},
    {IKE_TRANS_DH, IKE_DH_CURVE448, "curve448", ""},
    {IKE_TRANS_ESN, IKE_ESN_NO, "noesn", ""},
    {IKE_TRANS_ESN, IKE_ESN_YES, "esn", ""},
};

static void transform_name(const struct ike_transform *t, char *buf, size_t cap)
{
	static const char *const kind[] = {"transform", "encr", "prf", "integ", "ke", "esn"};

	for (size_t i = 0; i < sizeof(offer_names) / sizeof(offer_names[0]); i++) {
		const struct offer_name *o = &offer_names[i];

		if (o->type != t->type || o->id != t->id)
			continue;
		if (t->type == IKE_TRANS_ENCR && t->key_bits)
			snprintf(buf, cap, "%s%u%s", o->name, t->key_bits, o->suffix);
		else
			snprintf(buf, cap, "%s%s", o->name, o->suffix);
		return;
	}
	snprintf(buf, cap, "%s%u", kind[t->type <= IKE_TRANS_ESN ? t->type : 0], t->id);
}

char *ike_offer_str(const struct ike_sa_pl *sa, char *out, size_t cap)
{
	size_t len = 0;

	if (!cap)
		return out;
	out[0] = '\0';
	for (unsigned i = 0; sa && i < sa->n_proposals; i++) {
		const struct ike_proposal *p = &sa->p[i];

		for (unsigned j = 0; j < p->n_transforms; j++) {
			char name[40];
			int w;

			transform_name(&p->t[j], name, sizeof(name));
			w = snprintf(out + len, cap - len, "%s%s", j ? "-" : i ? ", " : "", name);
			if (w < 0 || (size_t)w >= cap - len) {
				out[len] = '\0';
				return out;
			}
			len += (size_t)w;
		}
	}
	return out;
}

unsigned ike_suite_legacy(const struct ike_suite *s)
{
	unsigned l = 0;

	if (s->ke == KE_MODP_1024)
		l |= IKE_LEGACY_MODP1024;
	if (s->integ == AUTH_HMAC_SHA1_96 || s->prf == PRF_HMAC_SHA1)
		l |= IKE_LEGACY_SHA1;
	return l;
}
