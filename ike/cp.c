/* The configuration payload (RFC 7296 §3.15); see cp.h. */
#include "ike/cp.h"

#include <string.h>
#include <sys/socket.h>

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

bool ike_cp_request_parse(const struct ike_cp *cp, struct ike_cp_request *out)
{
	memset(out, 0, sizeof(*out));
	if (cp->type != IKE_CFG_REQUEST)
		return false;
	for (unsigned i = 0; i < cp->n_attrs && i < IKE_MAX_CP_ATTRS; i++) {
		const struct ike_cp_attr *a = &cp->a[i];

		switch (a->type) {
		case IKE_CP_INTERNAL_IP4_ADDRESS:
			/* §3.15.1: empty, or the address the client would like */
			out->v4 = true;
			if (a->len == 4 && !all_zero(a->value, 4)) {
				out->want4_set = true;
				memcpy(out->want4, a->value, 4);
			}
			break;
		case IKE_CP_INTERNAL_IP6_ADDRESS:
			/* 16 bytes and a prefix length (§3.15.1) */
			out->v6 = true;
			if (a->len == 17 && !all_zero(a->value, 16)) {
				out->want6_set = true;
				memcpy(out->want6, a->value, 16);
			}
			break;
		case IKE_CP_INTERNAL_IP4_DNS:
			out->dns4 = true;
			break;
		case IKE_CP_INTERNAL_IP6_DNS:
			out->dns6 = true;
			break;
		case IKE_CP_INTERNAL_IP4_NBNS:
			out->nbns = true;
			break;
		case IKE_CP_INTERNAL_IP4_SUBNET:
			out->subnet4 = true;
			break;
		case IKE_CP_INTERNAL_IP6_SUBNET:
			out->subnet6 = true;
			break;
		default:
			break; /* unknown or private: ignored (§3.15.1) */
		}
	}
	return true;
}

static void attr(struct ike_cp *cp, uint16_t type, const uint8_t *v, uint16_t len)
{
	cp->a[cp->n_attrs].type = type;
	cp->a[cp->n_attrs].value = v;
	cp->a[cp->n_attrs].len = len;
	cp->n_attrs++;
}

void ike_cp_request_build(bool v4, bool v6, struct ike_cp *out, uint8_t buf[IKE_CP_BUF])
{
	memset(out, 0, sizeof(*out));
	out->type = IKE_CFG_REQUEST;
	/* strongSwan's request: empty address attributes, and the servers
	 * of the same families (§3.15.1's "any" is the empty value; an
	 * IPv6 address attribute is never empty, so all zero). */
	if (v4) {
		attr(out, IKE_CP_INTERNAL_IP4_ADDRESS, NULL, 0);
		attr(out, IKE_CP_INTERNAL_IP4_DNS, NULL, 0);
	}
	if (v6) {
		attr(out, IKE_CP_INTERNAL_IP6_ADDRESS, NULL, 0);
		attr(out, IKE_CP_INTERNAL_IP6_DNS, NULL, 0);
	}
}

/* Room for one more attribute of len bytes in buf at *off? */
static bool room(const struct ike_cp *cp, size_t off, size_t len)
{
	return cp->n_attrs < IKE_MAX_CP_ATTRS && off + len <= IKE_CP_BUF;
}

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

/* Addresses of family fam from v[0..n) as attributes of type t. */
static int servers(struct ike_cp *out, uint8_t *buf, size_t *off, uint16_t t, uint8_t fam,
                   const struct ike_addr *v, size_t n)
{
	size_t len = addr_len(fam);

	for (size_t i = 0; i < n; i++) {
		if (v[i].family != fam)
			continue;
		if (!room(out, *off, len))
			return IKE_ERR_NOSPACE;
		memcpy(buf + *off, v[i].addr, len);
		attr(out, t, buf + *off, (uint16_t)len);
		*off += len;
	}
	return 0;
}

static void v4_mask(unsigned len, uint8_t out[4])
{
	uint32_t m = len ? ~0u << (32 - len) : 0;

	out[0] = (uint8_t)(m >> 24);
	out[1] = (uint8_t)(m >> 16);
	out[2] = (uint8_t)(m >> 8);
	out[3] = (uint8_t)m;
}

int ike_cp_reply_build(const struct ike_cp_request *req, const struct ike_cp_reply *ans,
                       struct ike_cp *out, uint8_t buf[IKE_CP_BUF])
{
	bool any_dns = !req->dns4 && !req->dns6;
	size_t off = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->type = IKE_CFG_REPLY;
	for (size_t i = 0; i < ans->n_addrs && i < IKE_CP_MAX_ADDRS; i++) {
		const struct ike_addr *a = &ans->addrs[i];
		bool v4 = a->family == AF_INET;

		if ((v4 && !req->v4) || (!v4 && !req->v6))
			continue;
		if (!room(out, off, v4 ? 4 : 17))
			return IKE_ERR_NOSPACE;
		memcpy(buf + off, a->addr, v4 ? 4 : 16);
		if (!v4)
			buf[off + 16] = 128; /* the client's own address */
		attr(out, v4 ? IKE_CP_INTERNAL_IP4_ADDRESS : IKE_CP_INTERNAL_IP6_ADDRESS, buf + off,
		     v4 ? 4 : 17);
		off += v4 ? 4 : 17;
	}
	if (rc == 0 && (req->dns4 || any_dns))
		rc =
		    servers(out, buf, &off, IKE_CP_INTERNAL_IP4_DNS, AF_INET, ans->dns, ans->n_dns);
	if (rc == 0 && (req->dns6 || any_dns))
		rc = servers(out, buf, &off, IKE_CP_INTERNAL_IP6_DNS, AF_INET6, ans->dns,
		             ans->n_dns);
	if (rc == 0)
		rc = servers(out, buf, &off, IKE_CP_INTERNAL_IP4_NBNS, AF_INET, ans->nbns,
		             ans->n_nbns);
	for (size_t i = 0; rc == 0 && i < ans->n_subnets && i < IKE_CP_MAX_SUBNETS; i++) {
		const struct ike_prefix *p = &ans->subnets[i];

		/* §3.15.1: IPv4 as address and netmask, IPv6 as address and
		 * prefix length; sent whether asked for or not (split
		 * tunnelling is the server's policy; clients that know it,
		 * Windows and strongSwan among them, apply it). */
		if (!room(out, off, 17))
			return IKE_ERR_NOSPACE;
		if (p->family == AF_INET) {
			memcpy(buf + off, p->addr, 4);
			v4_mask(p->len, buf + off + 4);
			attr(out, IKE_CP_INTERNAL_IP4_SUBNET, buf + off, 8);
			off += 8;
		} else {
			memcpy(buf + off, p->addr, 16);
			buf[off + 16] = p->len;
			attr(out, IKE_CP_INTERNAL_IP6_SUBNET, buf + off, 17);
			off += 17;
		}
	}
	return rc;
}

static unsigned mask_len(const uint8_t m[4])
{
	uint32_t v = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	unsigned n = 0;

	while (n < 32 && (v & 0x80000000u)) {
		v <<= 1;
		n++;
	}
	return v ? 33 : n; /* 33: not a contiguous mask */
}

static void add_server(struct ike_addr *v, size_t *n, size_t cap, uint8_t fam, const uint8_t *a)
{
	if (*n >= cap)
		return;
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].family = fam;
	memcpy(v[*n].addr, a, addr_len(fam));
	(*n)++;
}

bool ike_cp_reply_parse(const struct ike_cp *cp, struct ike_cp_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (cp->type != IKE_CFG_REPLY)
		return false;
	for (unsigned i = 0; i < cp->n_attrs && i < IKE_MAX_CP_ATTRS; i++) {
		const struct ike_cp_attr *a = &cp->a[i];
		struct ike_prefix *p;

		switch (a->type) {
		case IKE_CP_INTERNAL_IP4_ADDRESS:
			if (a->len == 4)
				add_server(out->addrs, &out->n_addrs, IKE_CP_MAX_ADDRS, AF_INET,
				           a->value);
			break;
		case IKE_CP_INTERNAL_IP6_ADDRESS:
			if (a->len == 17)
				add_server(out->addrs, &out->n_addrs, IKE_CP_MAX_ADDRS, AF_INET6,
				           a->value);
			break;
		case IKE_CP_INTERNAL_IP4_DNS:
			if (a->len == 4)
				add_server(out->dns, &out->n_dns, IKE_CP_MAX_SERVERS, AF_INET,
				           a->value);
			break;
		case IKE_CP_INTERNAL_IP6_DNS:
			if (a->len == 16)
				add_server(out->dns, &out->n_dns, IKE_CP_MAX_SERVERS, AF_INET6,
				           a->value);
			break;
		case IKE_CP_INTERNAL_IP4_NBNS:
			if (a->len == 4)
				add_server(out->nbns, &out->n_nbns, IKE_CP_MAX_NBNS, AF_INET,
				           a->value);
			break;
		case IKE_CP_INTERNAL_IP4_SUBNET:
			if (a->len != 8 || out->n_subnets >= IKE_CP_MAX_SUBNETS ||
			    mask_len(a->value + 4) > 32)
				break;
			p = &out->subnets[out->n_subnets++];
			p->family = AF_INET;
			memcpy(p->addr, a->value, 4);
			p->len = (uint8_t)mask_len(a->value + 4);
			break;
		case IKE_CP_INTERNAL_IP6_SUBNET:
			if (a->len != 17 || a->value[16] > 128 ||
			    out->n_subnets >= IKE_CP_MAX_SUBNETS)
				break;
			p = &out->subnets[out->n_subnets++];
			p->family = AF_INET6;
			memcpy(p->addr, a->value, 16);
			p->len = a->value[16];
			break;
		default:
			break;
		}
	}
	return true;
}
