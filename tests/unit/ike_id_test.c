/*
 * ike/id.c: identities (RFC 7296 §3.5) from strongSwan's text forms and
 * back. The DN vectors are the subjects of certificates made by strongSwan's
 * own `pki --self --dn "..."` (5.9.8), so a DN written in tunsec.conf
 * matches the certificate strongSwan made from the same text.
 */
#include "ike/id.h"

#include <errno.h>
#include <string.h>

#include "tests/unit/test.h"

static void check_id(const char *text, int type, const char *hex, const char *printed, int line)
{
	struct ike_identity id;
	uint8_t want[IKE_ID_MAX];
	char buf[IKE_ID_STR_MAX];
	int n = test_unhex(hex, want, sizeof(want));
	int rc = ike_id_parse(text, &id);

	if (rc != 0 || id.type != type || n < 0 || id.len != (size_t)n ||
	    memcmp(id.data, want, (size_t)n) != 0) {
		test_fail(__FILE__, line, "'%s': rc %d, type %u len %u", text, rc, id.type, id.len);
		return;
	}
	ike_id_str(&id, buf, sizeof(buf));
	if (strcmp(buf, printed) != 0)
		test_fail(__FILE__, line, "'%s' printed as '%s', want '%s'", text, buf, printed);
}

/* §3.5's ID types, each from the text strongSwan reads as that type. */
TEST(ike_id_rfc7296_3_5_types_from_strongswan_text)
{
	/* ID_IPV4_ADDR: four octets; ID_IPV6_ADDR: sixteen. */
	check_id("192.0.2.1", IKE_ID_IPV4_ADDR, "c0000201", "192.0.2.1", __LINE__);
	check_id("2001:db8::1", IKE_ID_IPV6_ADDR, "20010db8000000000000000000000001", "2001:db8::1",
	         __LINE__);
	/* ID_FQDN: the name without any terminator, '@' only marks it. */
	check_id("@moon.strongswan.org", IKE_ID_FQDN, "6d6f6f6e2e7374726f6e677377616e2e6f7267",
	         "moon.strongswan.org", __LINE__);
	check_id("moon", IKE_ID_FQDN, "6d6f6f6e", "moon", __LINE__);
	/* ID_RFC822_ADDR: with the user part, and strongSwan's @@ form. */
	check_id("carol@strongswan.org", IKE_ID_RFC822_ADDR,
	         "6361726f6c407374726f6e677377616e2e6f7267", "carol@strongswan.org", __LINE__);
	check_id("@@carol@x", IKE_ID_RFC822_ADDR, "6361726f6c4078", "carol@x", __LINE__);
	/* ID_KEY_ID: opaque bytes; printed as #hex unless printable. */
	check_id("@#0001fe", IKE_ID_KEY_ID, "0001fe", "#0001fe", __LINE__);
	check_id("keyid:gw-1", IKE_ID_KEY_ID, "67772d31", "gw-1", __LINE__);
	/* Explicit prefixes override the guess. */
	check_id("fqdn:10.0.0.1", IKE_ID_FQDN, "31302e302e302e31", "10.0.0.1", __LINE__);
	check_id("email:gw", IKE_ID_RFC822_ADDR, "6777", "gw", __LINE__);
	check_id("ipv4:#0a000001", IKE_ID_IPV4_ADDR, "0a000001", "10.0.0.1", __LINE__);
}

TEST(ike_id_any_forms_are_type_0)
{
	static const char *const any[] = {"%any", "%any6", "*", "", "0.0.0.0", "::"};

	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
		struct ike_identity id;
		char buf[16];

		memset(&id, 0xa5, sizeof(id));
		CHECK_EQ(ike_id_parse(any[i], &id), 0);
		CHECK_EQ(id.type, 0);
		CHECK_EQ(id.len, 0);
		CHECK(strcmp(ike_id_str(&id, buf, sizeof(buf)), "%any") == 0);
	}
}

/* ID_DER_ASN1_DN: the DER of the Name, byte for byte what pki made. */
TEST(ike_id_rfc7296_3_5_der_asn1_dn_matches_pki)
{
	/* pki --self --dn "C=CH, O=strongSwan, CN=moon.strongswan.org" */
	check_id("C=CH, O=strongSwan, CN=moon.strongswan.org", IKE_ID_DER_ASN1_DN,
	         "3040310b300906035504061302434831133011060355040a130a7374726f6e675377616e311c"
	         "301a060355040313136d6f6f6e2e7374726f6e677377616e2e6f7267",
	         "C=CH, O=strongSwan, CN=moon.strongswan.org", __LINE__);
	/* Non-printable characters make a UTF8String, E= an IA5String. */
	check_id("C=DE, O=Zürich GmbH, OU=Ops, CN=gw, E=ops@example.org", IKE_ID_DER_ASN1_DN,
	         "305f310b300906035504061302444531153013060355040a0c0c5ac3bc7269636820476d6248"
	         "310c300a060355040b13034f7073310b3009060355040313026777311e301c06092a864886f7"
	         "0d010901160f6f7073406578616d706c652e6f7267",
	         "C=DE, O=Z??rich GmbH, OU=Ops, CN=gw, E=ops@example.org", __LINE__);
	/* pki --dn "DC=org, DC=example, CN=carol": the order as written. */
	check_id("DC=org, DC=example, CN=carol", IKE_ID_DER_ASN1_DN,
	         "303e31133011060a0992268993f22c64011913036f726731173015060a0992268993f22c6401"
	         "1913076578616d706c65310e300c060355040313056361726f6c",
	         "DC=org, DC=example, CN=carol", __LINE__);
	/* Blanks around names and values do not count; '/' separates when
	 * the text starts with one; attribute names ignore case. */
	check_id("/c=CH/ o = strongSwan /CN=moon.strongswan.org", IKE_ID_DER_ASN1_DN,
	         "3040310b300906035504061302434831133011060355040a130a7374726f6e675377616e311c"
	         "301a060355040313136d6f6f6e2e7374726f6e677377616e2e6f7267",
	         "C=CH, O=strongSwan, CN=moon.strongswan.org", __LINE__);
}

/* What ike_id_str prints parses back to the same bytes. */
TEST(ike_id_str_round_trip)
{
	static const char *const texts[] = {
	    "192.0.2.1",     "fd00::7", "@gw.example.org", "carol@example.org", "@#c0ffee",
	    "C=CH, ST=Zug, L=Baar, O=strongSwan, OU=Test, CN=moon, serialNumber=12, S=Doe, G=J",
	    "DC=org, DC=example, UID=carol, E=carol@example.org",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ike_identity a, b;
		char buf[IKE_ID_STR_MAX], back[IKE_ID_STR_MAX + 8];

		CHECK_EQ(ike_id_parse(texts[i], &a), 0);
		ike_id_str(&a, buf, sizeof(buf));
		/* FQDNs print without '@'; binary key ids as #hex (add the @). */
		snprintf(back, sizeof(back), "%s%s",
		         a.type == IKE_ID_FQDN || a.type == IKE_ID_KEY_ID ? "@" : "", buf);
		CHECK_EQ(ike_id_parse(back, &b), 0);
		CHECK_EQ(a.type, b.type);
		CHECK_EQ(a.len, b.len);
		CHECK_MEM(a.data, b.data, a.len);
	}
}

TEST(ike_id_rejects_malformed)
{
	static const struct {
		const char *text;
		int rc;
		const char *msg;
	} bad[] = {
	    {"XY=1, CN=a", -EINVAL, "unknown DN attribute 'XY'"},
	    {"CN=a, b", -EINVAL, "DN part ' b' has no '='"},
	    {"@#abc", -EINVAL, "even number of hex digits"},
	    {"@#zz", -EINVAL, "expected hex digits"},
	    {"@", -EINVAL, "empty identity"},
	    {"ipv4:1.2.3", -EINVAL, "'1.2.3' is not an IPv4 address"},
	    {"10.0.0.0/8", -EINVAL, "address ranges and subnets are not IKE identities"},
	    {"10.0.0.1-10.0.0.9", -EINVAL, "address ranges and subnets"},
	};
	char longname[300], longdn[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ike_identity id;
		char err[128];
		int rc = ike_id_parse_err(bad[i].text, &id, err, sizeof(err));

		if (rc != bad[i].rc || !strstr(err, bad[i].msg) || id.type != 0)
			test_fail(__FILE__, __LINE__, "'%s': rc %d, '%s'", bad[i].text, rc, err);
	}
	/* RFC 7296 §3.5 allows more, our struct ike_identity holds 255 bytes. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '@';
	longname[sizeof(longname) - 1] = '\0';
	{
		struct ike_identity id;

		CHECK_EQ(ike_id_parse(longname, &id), -E2BIG);
		snprintf(longdn, sizeof(longdn), "CN=%.*s", 260, longname + 1);
		CHECK_EQ(ike_id_parse(longdn, &id), -E2BIG);
		longname[256] = '\0'; /* '@' + 255 bytes: fits exactly */
		CHECK_EQ(ike_id_parse(longname, &id), 0);
		CHECK_EQ(id.len, 255);
	}
}

static int match(const char *id, const char *pattern)
{
	struct ike_identity a, b;

	if (ike_id_parse(id, &a) < 0 || ike_id_parse(pattern, &b) < 0)
		return -1;
	return ike_id_match(&a, &b);
}

/* strongSwan's id_match_t levels, which secrets matching adds up. */
TEST(ike_id_match_strongswan_levels)
{
	CHECK_EQ(match("moon.example.org", "%any"), IKE_ID_MATCH_ANY);
	CHECK_EQ(match("%any", "moon.example.org"), IKE_ID_MATCH_NONE);
	CHECK_EQ(match("@MOON.example.org", "@moon.EXAMPLE.org"), IKE_ID_MATCH_PERFECT);
	CHECK_EQ(match("@moon.example.org", "*.example.org"), IKE_ID_MATCH_ONE_WILDCARD);
	CHECK_EQ(match("@moon.example.com", "*.example.org"), IKE_ID_MATCH_NONE);
	CHECK_EQ(match("carol@example.org", "*@example.org"), IKE_ID_MATCH_ONE_WILDCARD);
	/* Same bytes, other type: no match (RFC 7296 §3.5 types differ). */
	CHECK_EQ(match("@carol@x", "@@carol@x"), IKE_ID_MATCH_NONE);
	CHECK_EQ(match("192.0.2.1", "192.0.2.1"), IKE_ID_MATCH_PERFECT);
	CHECK_EQ(match("192.0.2.1", "192.0.2.2"), IKE_ID_MATCH_NONE);
	CHECK_EQ(match("192.0.2.1", "@192.0.2.1"), IKE_ID_MATCH_NONE);
	CHECK_EQ(match("@#0102", "@#0102"), IKE_ID_MATCH_PERFECT);
	/* DNs: RDN by RDN, PrintableStrings ignoring case, '*' a wildcard. */
	CHECK_EQ(match("C=CH, O=strongSwan, CN=moon", "C=ch, O=STRONGSWAN, CN=moon"),
	         IKE_ID_MATCH_PERFECT);
	CHECK_EQ(match("C=CH, O=strongSwan, CN=moon", "C=CH, O=strongSwan, CN=*"),
	         IKE_ID_MATCH_PERFECT - 1);
	CHECK_EQ(match("C=CH, O=strongSwan, CN=moon", "C=CH, O=*, CN=*"), IKE_ID_MATCH_PERFECT - 2);
	CHECK_EQ(match("C=CH, O=strongSwan, CN=moon", "C=CH, CN=moon"), IKE_ID_MATCH_NONE);
	CHECK_EQ(match("C=CH, O=strongSwan, CN=moon", "C=CH, OU=strongSwan, CN=moon"),
	         IKE_ID_MATCH_NONE);
}

/* A peer's DN that is not DER still prints (it is logged), as a marker. */
TEST(ike_id_str_invalid_dn_and_small_buffers)
{
	struct ike_identity id = {.type = IKE_ID_DER_ASN1_DN, .len = 3, .data = {0x30, 0x05, 0x31}};
	char buf[64], small[6];

	CHECK(strcmp(ike_id_str(&id, buf, sizeof(buf)), "(invalid DN)") == 0);
	CHECK_EQ(ike_id_parse("@gw.example.org", &id), 0);
	CHECK(strcmp(ike_id_str(&id, small, sizeof(small)), "gw.ex") == 0);
	id.data[2] = 0x01;
	CHECK(strcmp(ike_id_str(&id, buf, sizeof(buf)), "gw?example.org") == 0);
}
