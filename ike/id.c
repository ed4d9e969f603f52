/*
 * IKE identities from and to strongSwan's text forms (see ike/id.h).
 *
 * Distinguished names go through OpenSSL's X509_NAME so that the DER is
 * exactly what certificates carry; every string type is chosen here, not by
 * OpenSSL's defaults (which would pick UTF8String for everything but C), to
 * match what strongSwan and `pki --dn` produce.
 */
#include "ike/id.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "ike/wire.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int id_fail(char *err, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int id_fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && cap) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Distinguished names */

/*
 * Attribute names as strongSwan's atodn() knows them. Where a NID has
 * several names the first is the one printed. Every value is a
 * PrintableString when its characters allow (else UTF8String), except the
 * IA5String ones.
 */
static const struct {
	const char *name;
	int nid;
	bool ia5;
} dn_attrs[] = {
    {"C", NID_countryName, false},
    {"ST", NID_stateOrProvinceName, false},
    {"L", NID_localityName, false},
    {"STREET", NID_streetAddress, false},
    {"O", NID_organizationName, false},
    {"OU", NID_organizationalUnitName, false},
    {"CN", NID_commonName, false},
    {"serialNumber", NID_serialNumber, false},
    {"SN", NID_serialNumber, false}, /* strongSwan: SN is serialNumber */
    {"S", NID_surname, false},
    {"T", NID_title, false},
    {"D", NID_description, false},
    {"N", NID_name, false},
    {"G", NID_givenName, false},
    {"I", NID_initials, false},
    {"dnQualifier", NID_dnQualifier, false},
    {"dmdName", NID_dmdName, false},
    {"pseudonym", NID_pseudonym, false},
    {"postalAddress", NID_postalAddress, false},
    {"postalCode", NID_postalCode, false},
    {"ID", NID_x500UniqueIdentifier, false},
    {"UID", NID_userId, false},
    {"DC", NID_domainComponent, false},
    {"E", NID_pkcs9_emailAddress, true},
    {"Email", NID_pkcs9_emailAddress, true},
    {"emailAddress", NID_pkcs9_emailAddress, true},
    {"UN", NID_pkcs9_unstructuredName, true},
    {"unstructuredName", NID_pkcs9_unstructuredName, true},
    {"UA", NID_pkcs9_unstructuredAddress, false},
    {"unstructuredAddress", NID_pkcs9_unstructuredAddress, false},
};

/* X.680 §41.4: PrintableString's character set. */
static bool printable_string(const char *s, size_t n)
{
	static const char extra[] = " '()+,-./:=?";

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || (ch && strchr(extra, ch))))
			return false;
	}
	return true;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * "C=CH, O=strongSwan, CN=moon" (or "/C=CH/O=strongSwan/CN=moon") to the DER
 * of the Name in out. Each part is ATTR=VALUE, blanks around both trimmed;
 * values cannot contain the separator (strongSwan has no escapes either).
 */
static int parse_dn(const char *s, struct ike_identity *out, char *err, size_t cap)
{
	char sep = ',';
	X509_NAME *name;
	unsigned char *der = NULL;
	int rc = 0, len;

	if (*s == '/') {
		sep = '/';
		s++;
	}
	name = X509_NAME_new();
	if (!name)
		return -ENOMEM;
	while (rc == 0) {
		const char *end = strchr(s, sep), *eq, *a, *ae, *v, *ve;
		size_t i;
		int type;

		if (!end)
			end = s + strlen(s);
		for (a = s; a < end && blank(*a); a++)
			;
		eq = memchr(a, '=', (size_t)(end - a));
		if (!eq) {
			rc = id_fail(err, cap, -EINVAL, "DN part '%.*s' has no '='", (int)(end - s),
			             s);
			break;
		}
		for (ae = eq; ae > a && blank(ae[-1]); ae--)
			;
		for (v = eq + 1; v < end && blank(*v); v++)
			;
		for (ve = end; ve > v && blank(ve[-1]); ve--)
			;
		for (i = 0; i < ARRAY_LEN(dn_attrs); i++)
			if (strlen(dn_attrs[i].name) == (size_t)(ae - a) &&
			    strncasecmp(dn_attrs[i].name, a, (size_t)(ae - a)) == 0)
				break;
		if (i == ARRAY_LEN(dn_attrs)) {
			rc = id_fail(err, cap, -EINVAL, "unknown DN attribute '%.*s'",
			             (int)(ae - a), a);
			break;
		}
		if (dn_attrs[i].ia5)
			type = V_ASN1_IA5STRING;
		else if (printable_string(v, (size_t)(ve - v)))
			type = V_ASN1_PRINTABLESTRING;
		else
			type = V_ASN1_UTF8STRING;
		if (!X509_NAME_add_entry_by_NID(name, dn_attrs[i].nid, type,
		                                (const unsigned char *)v, (int)(ve - v), -1, 0)) {
			rc = -ENOMEM;
			break;
		}
		if (*end == '\0')
			break;
		s = end + 1;
	}
	if (rc == 0) {
		len = i2d_X509_NAME(name, &der);
		if (len <= 0)
			rc = -ENOMEM;
		else if ((size_t)len > sizeof(out->data))
			rc = id_fail(err, cap, -E2BIG, "DN of %d bytes in DER, more than %zu", len,
			             sizeof(out->data));
		else {
			out->type = IKE_ID_DER_ASN1_DN;
			out->len = (uint8_t)len;
			memcpy(out->data, der, (size_t)len);
		}
	}
	OPENSSL_free(der);
	X509_NAME_free(name);
	return rc;
}

/* Append to buf at *off, keeping it NUL-terminated; stops at the end. */
static void put(char *buf, size_t cap, size_t *off, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *off + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[(*off)++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (cap)
		buf[*off < cap ? *off : cap - 1] = '\0';
}

static void print_dn(const struct ike_identity *id, char *buf, size_t cap)
{
	const unsigned char *p = id->data;
	X509_NAME *name = d2i_X509_NAME(NULL, &p, id->len);
	size_t off = 0;
	int n;

	if (cap)
		buf[0] = '\0';
	if (!name || p != id->data + id->len) {
		X509_NAME_free(name);
		put(buf, cap, &off, "(invalid DN)", 12);
		return;
	}
	n = X509_NAME_entry_count(name);
	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
		const ASN1_STRING *val = X509_NAME_ENTRY_get_data(e);
		int nid = OBJ_obj2nid(obj);
		char oid[80];
		const char *attr = NULL;

		for (size_t k = 0; k < ARRAY_LEN(dn_attrs) && !attr; k++)
			if (dn_attrs[k].nid == nid)
				attr = dn_attrs[k].name;
		if (!attr) {
			if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0)
				snprintf(oid, sizeof(oid), "?");
			attr = oid;
		}
		if (i)
			put(buf, cap, &off, ", ", 2);
		put(buf, cap, &off, attr, strlen(attr));
		put(buf, cap, &off, "=", 1);
		put(buf, cap, &off, (const char *)ASN1_STRING_get0_data(val),
		    (size_t)ASN1_STRING_length(val));
	}
	X509_NAME_free(name);
}

/* ---------------------------------------------------------------------- */
/* Parsing */

static int set_bytes(struct ike_identity *out, uint8_t type, const void *p, size_t n, char *err,
                     size_t cap)
{
	if (n == 0)
		return id_fail(err, cap, -EINVAL, "empty identity");
	if (n > sizeof(out->data))
		return id_fail(err, cap, -E2BIG, "identity of %zu bytes, more than %zu", n,
		               sizeof(out->data));
	out->type = type;
	out->len = (uint8_t)n;
	memcpy(out->data, p, n);
	return 0;
}

/* "0123abcd" (an optional 0x is strongSwan's chunk_from_hex too). */
static int set_hex(struct ike_identity *out, uint8_t type, const char *s, char *err, size_t cap)
{
	uint8_t b[IKE_ID_MAX];
	size_t n = 0, len;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	len = strlen(s);
	if (len == 0 || len % 2)
		return id_fail(err, cap, -EINVAL, "expected an even number of hex digits");
	if (len / 2 > sizeof(b))
		return id_fail(err, cap, -E2BIG, "key id of %zu bytes, more than %zu", len / 2,
		               sizeof(b));
	for (; n < len / 2; n++) {
		int hi = wire_hex_digit(s[2 * n]), lo = wire_hex_digit(s[2 * n + 1]);

		if (hi < 0 || lo < 0)
			return id_fail(err, cap, -EINVAL, "expected hex digits");
		b[n] = (uint8_t)(hi << 4 | lo);
	}
	return set_bytes(out, type, b, n, err, cap);
}

static int set_addr(struct ike_identity *out, int family, const char *s, char *err, size_t cap)
{
	uint8_t a[16];

	if (inet_pton(family, s, a) != 1)
		return id_fail(err, cap, -EINVAL, "'%s' is not an %s address", s,
		               family == AF_INET ? "IPv4" : "IPv6");
	if (family == AF_INET)
		return set_bytes(out, IKE_ID_IPV4_ADDR, a, 4, err, cap);
	return set_bytes(out, IKE_ID_IPV6_ADDR, a, 16, err, cap);
}

static int set_text(struct ike_identity *out, uint8_t type, const char *s, char *err, size_t cap)
{
	return set_bytes(out, type, s, strlen(s), err, cap);
}

/* strongSwan's "type:" prefixes; value "#HEX" gives raw bytes. */
static int parse_prefixed(const char *s, struct ike_identity *out, char *err, size_t cap,
                          bool *done)
{
	static const struct {
		const char *prefix;
		int type;
	} prefixes[] = {
	    {"ipv4:", IKE_ID_IPV4_ADDR}, {"ipv6:", IKE_ID_IPV6_ADDR},
	    {"fqdn:", IKE_ID_FQDN},      {"dns:", IKE_ID_FQDN},
	    {"email:", IKE_ID_RFC822_ADDR}, {"rfc822:", IKE_ID_RFC822_ADDR},
	    {"userfqdn:", IKE_ID_RFC822_ADDR}, {"keyid:", IKE_ID_KEY_ID},
	    {"asn1dn:", IKE_ID_DER_ASN1_DN}, {"dn:", IKE_ID_DER_ASN1_DN},
	};

	*done = false;
	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++) {
		size_t n = strlen(prefixes[i].prefix);
		const char *v = s + n;

		if (strncasecmp(s, prefixes[i].prefix, n) != 0)
			continue;
		*done = true;
		if (*v == '#')
			return set_hex(out, (uint8_t)prefixes[i].type, v + 1, err, cap);
		switch (prefixes[i].type) {
		case IKE_ID_IPV4_ADDR:
			return set_addr(out, AF_INET, v, err, cap);
		case IKE_ID_IPV6_ADDR:
			return set_addr(out, AF_INET6, v, err, cap);
		case IKE_ID_DER_ASN1_DN:
			return parse_dn(v, out, err, cap);
		default:
			return set_text(out, (uint8_t)prefixes[i].type, v, err, cap);
		}
	}
	return 0;
}

/* "10.0.0.0/8", "10.0.0.1-10.0.0.9": identities only strongSwan's matching
 * knows; IKE cannot carry them (RFC 7296 §3.5 has no such type). */
static bool addr_set(const char *s)
{
	char buf[INET6_ADDRSTRLEN];
	const char *sep = strpbrk(s, "/-");
	uint8_t a[16];
	size_t n;

	if (!sep)
		return false;
	n = (size_t)(sep - s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

int ike_id_parse_err(const char *s, struct ike_identity *out, char *err, size_t cap)
{
	static const char *const any[] = {"", "%any", "%any6", "0.0.0.0", "*", "::", "0::0"};
	uint8_t a[16];
	bool done;
	int rc;

	memset(out, 0, sizeof(*out));
	if (err && cap)
		err[0] = '\0';
	rc = parse_prefixed(s, out, err, cap, &done);
	if (!done) {
		if (strchr(s, '=')) {
			rc = parse_dn(s, out, err, cap);
		} else if (!strchr(s, '@')) {
			for (size_t i = 0; i < ARRAY_LEN(any); i++)
				if (strcmp(s, any[i]) == 0)
					return 0;
			if (inet_pton(AF_INET, s, a) == 1)
				rc = set_bytes(out, IKE_ID_IPV4_ADDR, a, 4, err, cap);
			else if (inet_pton(AF_INET6, s, a) == 1)
				rc = set_bytes(out, IKE_ID_IPV6_ADDR, a, 16, err, cap);
			else if (addr_set(s))
				rc = id_fail(err, cap, -EINVAL,
				             "'%s': address ranges and subnets are not IKE "
				             "identities",
				             s);
			else
				rc = set_text(out, IKE_ID_FQDN, s, err, cap);
		} else if (s[0] == '@' && s[1] == '#') {
			rc = set_hex(out, IKE_ID_KEY_ID, s + 2, err, cap);
		} else if (s[0] == '@' && s[1] == '@') {
			rc = set_text(out, IKE_ID_RFC822_ADDR, s + 2, err, cap);
		} else if (s[0] == '@') {
			rc = set_text(out, IKE_ID_FQDN, s + 1, err, cap);
		} else {
			rc = set_text(out, IKE_ID_RFC822_ADDR, s, err, cap);
		}
	}
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int ike_id_parse(const char *s, struct ike_identity *out)
{
	return ike_id_parse_err(s, out, NULL, 0);
}

/* ---------------------------------------------------------------------- */
/* Printing */

static bool all_printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

char *ike_id_str(const struct ike_identity *id, char *buf, size_t cap)
{
	char tmp[INET6_ADDRSTRLEN];
	size_t off = 0;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	switch (id->type) {
	case 0:
		put(buf, cap, &off, "%any", 4);
		break;
	case IKE_ID_IPV4_ADDR:
	case IKE_ID_IPV6_ADDR: {
		int family = id->type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6;

		if (id->len != (family == AF_INET ? 4 : 16) ||
		    !inet_ntop(family, id->data, tmp, sizeof(tmp)))
			snprintf(tmp, sizeof(tmp), "(invalid address)");
		put(buf, cap, &off, tmp, strlen(tmp));
		break;
	}
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
		put(buf, cap, &off, (const char *)id->data, id->len);
		break;
	case IKE_ID_DER_ASN1_DN:
		print_dn(id, buf, cap);
		break;
	case IKE_ID_KEY_ID:
		/* strongSwan: text if printable, else #hex. */
		if (all_printable(id->data, id->len)) {
			put(buf, cap, &off, (const char *)id->data, id->len);
		} else {
			put(buf, cap, &off, "#", 1);
			for (size_t i = 0; i < id->len; i++) {
				snprintf(tmp, sizeof(tmp), "%02x", id->data[i]);
				put(buf, cap, &off, tmp, 2);
			}
		}
		break;
	default:
		snprintf(tmp, sizeof(tmp), "(ID type %u)", id->type);
		put(buf, cap, &off, tmp, strlen(tmp));
		break;
	}
	return buf;
}

/* ---------------------------------------------------------------------- */
/* Matching */

static int match_string(const struct ike_identity *id, const struct ike_identity *pat)
{
	size_t n = pat->len;

	if (id->len == pat->len && strncasecmp((const char *)id->data, (const char *)pat->data,
	                                       n) == 0 &&
	    !memchr(id->data, 0, id->len) && !memchr(pat->data, 0, n))
		return IKE_ID_MATCH_PERFECT;
	if (n == 0 || pat->data[0] != '*')
		return IKE_ID_MATCH_NONE;
	if (n == 1)
		return IKE_ID_MATCH_ANY; /* "*" is no better than %any */
	n--;
	if (id->len < n || memchr(id->data, 0, id->len) || memchr(pat->data, 0, pat->len))
		return IKE_ID_MATCH_NONE;
	if (strncasecmp((const char *)id->data + id->len - n, (const char *)pat->data + 1, n) == 0)
		return IKE_ID_MATCH_ONE_WILDCARD;
	return IKE_ID_MATCH_NONE;
}

static unsigned char ascii_lower(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 32) : ch;
}

static bool string_eq(const ASN1_STRING *a, const ASN1_STRING *b)
{
	int n = ASN1_STRING_length(a);
	const unsigned char *pa = ASN1_STRING_get0_data(a), *pb = ASN1_STRING_get0_data(b);

	if (n != ASN1_STRING_length(b))
		return false;
	/* strongSwan ignores case in PrintableStrings and IA5 strings. */
	if (ASN1_STRING_type(a) == ASN1_STRING_type(b) &&
	    (ASN1_STRING_type(a) == V_ASN1_PRINTABLESTRING ||
	     ASN1_STRING_type(a) == V_ASN1_IA5STRING)) {
		for (int i = 0; i < n; i++)
			if (ascii_lower(pa[i]) != ascii_lower(pb[i]))
				return false;
		return true;
	}
	return memcmp(pa, pb, (size_t)n) == 0;
}

static int match_dn(const struct ike_identity *id, const struct ike_identity *pat)
{
	const unsigned char *p = id->data, *q = pat->data;
	X509_NAME *a, *b;
	int rc = IKE_ID_MATCH_NONE, n, wc = 0;

	if (id->len == pat->len && memcmp(id->data, pat->data, id->len) == 0)
		return IKE_ID_MATCH_PERFECT;
	a = d2i_X509_NAME(NULL, &p, id->len);
	b = d2i_X509_NAME(NULL, &q, pat->len);
	if (!a || !b)
		goto out;
	n = X509_NAME_entry_count(a);
	if (n != X509_NAME_entry_count(b))
		goto out;
	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *ea = X509_NAME_get_entry(a, i), *eb = X509_NAME_get_entry(b, i);
		const ASN1_STRING *va = X509_NAME_ENTRY_get_data(ea), *vb = X509_NAME_ENTRY_get_data(eb);

		if (OBJ_cmp(X509_NAME_ENTRY_get_object(ea), X509_NAME_ENTRY_get_object(eb)) != 0)
			goto out;
		if (ASN1_STRING_length(vb) == 1 && ASN1_STRING_get0_data(vb)[0] == '*')
			wc++;
		else if (!string_eq(va, vb))
			goto out;
	}
	if (wc > IKE_ID_MATCH_ONE_WILDCARD - IKE_ID_MATCH_MAX_WILDCARDS)
		wc = IKE_ID_MATCH_ONE_WILDCARD - IKE_ID_MATCH_MAX_WILDCARDS;
	rc = IKE_ID_MATCH_PERFECT - wc;
out:
	X509_NAME_free(a);
	X509_NAME_free(b);
	return rc;
}

int ike_id_match(const struct ike_identity *id, const struct ike_identity *pattern)
{
	if (pattern->type == 0)
		return IKE_ID_MATCH_ANY;
	if (id->type != pattern->type)
		return IKE_ID_MATCH_NONE;
	switch (id->type) {
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
		return match_string(id, pattern);
	case IKE_ID_DER_ASN1_DN:
		return match_dn(id, pattern);
	default:
		return id->len == pattern->len && memcmp(id->data, pattern->data, id->len) == 0
		           ? IKE_ID_MATCH_PERFECT
		           : IKE_ID_MATCH_NONE;
	}
}
