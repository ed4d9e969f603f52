/* Debug lines for IKE messages; see msglog.h. */
#include "ike/msglog.h"

#include <stdio.h>
#include <string.h>

#include "ike/wire.h"

const char *ike_exchange_name(uint8_t exchange, char *buf, size_t cap)
{
	switch (exchange) {
	case IKE_SA_INIT:
		return "IKE_SA_INIT";
	case IKE_AUTH:
		return "IKE_AUTH";
	case IKE_CREATE_CHILD_SA:
		return "CREATE_CHILD_SA";
	case IKE_INFORMATIONAL:
		return "INFORMATIONAL";
	}
	snprintf(buf, cap, "EXCHANGE(%u)", exchange);
	return buf;
}

static const struct {
	uint16_t type;
	const char *name;
} notify_names[] = {
    {IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, "UNSUPPORTED_CRITICAL_PAYLOAD"},
    {IKE_N_INVALID_IKE_SPI, "INVALID_IKE_SPI"},
    {IKE_N_INVALID_MAJOR_VERSION, "INVALID_MAJOR_VERSION"},
    {IKE_N_INVALID_SYNTAX, "INVALID_SYNTAX"},
    {IKE_N_INVALID_MESSAGE_ID, "INVALID_MESSAGE_ID"},
    {IKE_N_INVALID_SPI, "INVALID_SPI"},
    {IKE_N_NO_PROPOSAL_CHOSEN, "NO_PROP"},
    {IKE_N_INVALID_KE_PAYLOAD, "INVAL_KE"},
    {IKE_N_AUTHENTICATION_FAILED, "AUTH_FAILED"},
    {IKE_N_NO_ADDITIONAL_SAS, "NO_ADD_SAS"},
    {IKE_N_INTERNAL_ADDRESS_FAILURE, "INT_ADDR_FAIL"},
    {IKE_N_FAILED_CP_REQUIRED, "FAILED_CP_REQ"},
    {IKE_N_TS_UNACCEPTABLE, "TS_UNACCEPT"},
    {IKE_N_TEMPORARY_FAILURE, "TEMP_FAIL"},
    {IKE_N_CHILD_SA_NOT_FOUND, "CHILD_SA_NOT_FOUND"},
    {IKE_N_INITIAL_CONTACT, "INIT_CONTACT"},
    {IKE_N_NAT_DETECTION_SOURCE_IP, "NATD_S_IP"},
    {IKE_N_NAT_DETECTION_DESTINATION_IP, "NATD_D_IP"},
    {IKE_N_COOKIE, "COOKIE"},
    {IKE_N_USE_TRANSPORT_MODE, "USE_TRANSP"},
    {IKE_N_REKEY_SA, "REKEY_SA"},
    {IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED, "ESP_TFC_PAD_N"},
    {IKE_N_MOBIKE_SUPPORTED, "MOBIKE_SUP"},
    {IKE_N_MULTIPLE_AUTH_SUPPORTED, "MULT_AUTH"},
    {IKE_N_ANOTHER_AUTH_FOLLOWS, "AUTH_FOLLOWS"},
    {IKE_N_AUTH_LIFETIME, "AUTH_LFT"},
    {IKE_N_EAP_ONLY_AUTHENTICATION, "EAP_ONLY"},
    {IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, "FRAG_SUP"},
    {IKE_N_SIGNATURE_HASH_ALGORITHMS, "HASH_ALG"},
};

const char *ike_notify_name(uint16_t type, char *buf, size_t cap)
{
	for (size_t i = 0; i < sizeof(notify_names) / sizeof(notify_names[0]); i++)
		if (notify_names[i].type == type)
			return notify_names[i].name;
	snprintf(buf, cap, "%u", type);
	return buf;
}

static const char *cp_name(uint8_t type)
{
	switch (type) {
	case IKE_CFG_REQUEST:
		return "CPRQ";
	case IKE_CFG_REPLY:
		return "CPRP";
	case IKE_CFG_SET:
		return "CPS";
	case IKE_CFG_ACK:
		return "CPA";
	}
	return "CP";
}

static const char *payload_name(uint8_t type)
{
	switch (type) {
	case IKE_PL_SA:
		return "SA";
	case IKE_PL_KE:
		return "KE";
	case IKE_PL_IDI:
		return "IDi";
	case IKE_PL_IDR:
		return "IDr";
	case IKE_PL_CERT:
		return "CERT";
	case IKE_PL_CERTREQ:
		return "CERTREQ";
	case IKE_PL_AUTH:
		return "AUTH";
	case IKE_PL_NONCE:
		return "No";
	case IKE_PL_DELETE:
		return "D";
	case IKE_PL_VENDOR:
		return "V";
	case IKE_PL_TSI:
		return "TSi";
	case IKE_PL_TSR:
		return "TSr";
	case IKE_PL_SK:
		return "SK";
	case IKE_PL_EAP:
		return "EAP";
	case IKE_PL_SKF:
		return "EF";
	}
	return NULL;
}

/* Append " word" to out if it fits (the line stays within its buffer). */
static void add(char *out, size_t *n, const char *word)
{
	int k = snprintf(out + *n, IKE_MSGLOG_MAX - *n, " %s", word);

	if (k > 0 && (size_t)k < IKE_MSGLOG_MAX - *n)
		*n += (size_t)k;
}

static void head(const struct ike_hdr *h, char out[IKE_MSGLOG_MAX], size_t *n)
{
	char xb[24];
	int k = snprintf(out, IKE_MSGLOG_MAX, "%s %s %u [",
	                 ike_exchange_name(h->exchange, xb, sizeof(xb)),
	                 h->flags & IKE_FLAG_R ? "response" : "request", h->msg_id);

	*n = k > 0 && k < IKE_MSGLOG_MAX ? (size_t)k : 0;
}

static void word_for(uint8_t type, uint16_t notify, uint8_t cp, char *w, size_t cap)
{
	char nb[8];
	const char *name = payload_name(type);

	if (type == IKE_PL_NOTIFY)
		snprintf(w, cap, "N(%s)", ike_notify_name(notify, nb, sizeof(nb)));
	else if (type == IKE_PL_CP)
		snprintf(w, cap, "%s", cp_name(cp));
	else if (name)
		snprintf(w, cap, "%s", name);
	else
		snprintf(w, cap, "UNKNOWN(%u)", type);
}

void ike_msglog_plain(const uint8_t *msg, size_t len, char out[IKE_MSGLOG_MAX])
{
	struct ike_hdr h;
	size_t n = 0, off = IKE_HDR_LEN;
	uint8_t np;
	char w[48];

	out[0] = '\0';
	if (ike_hdr_parse(&h, msg, len) < 0)
		return;
	head(&h, out, &n);
	np = h.next_payload;
	/* Generic payload headers (§3.2): next payload, flags, length. */
	while (np != IKE_PL_NONE) {
		size_t plen;
		uint16_t notify = 0;
		uint8_t cp = 0;

		if (off + 4 > len || (plen = wire_load16(msg + off + 2)) < 4 || off + plen > len) {
			add(out, &n, "...");
			break;
		}
		if (np == IKE_PL_NOTIFY && plen >= 8)
			notify = wire_load16(msg + off + 6);
		if (np == IKE_PL_CP && plen >= 5)
			cp = msg[off + 4];
		word_for(np, notify, cp, w, sizeof(w));
		add(out, &n, w);
		np = msg[off];
		off += plen;
	}
	add(out, &n, "]");
}

void ike_msglog_parsed(const struct ike_msg *m, char out[IKE_MSGLOG_MAX])
{
	size_t n = 0;
	unsigned k = 0;
	char w[48];

	head(&m->hdr, out, &n);
	for (unsigned i = 0; i < m->n_payloads && i < IKE_MAX_PAYLOADS; i++) {
		uint8_t t = m->order[i];
		uint16_t notify = 0;

		if (t == IKE_PL_SK || t == IKE_PL_SKF)
			continue; /* the envelope; its contents follow */
		if (t == IKE_PL_NOTIFY && k < m->n_notify && k < IKE_MAX_NOTIFY)
			notify = m->notify[k++].type;
		word_for(t, notify, m->cp.type, w, sizeof(w));
		add(out, &n, w);
	}
	add(out, &n, "]");
}
