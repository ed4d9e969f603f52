/*
 * rtnetlink for the TUN device: link MTU and up, addresses, routes.
 *
 * One NETLINK_ROUTE socket per struct netcfg. Every request carries
 * NLM_F_ACK and waits for its own NLMSG_ERROR (matched by sequence number
 * and sent by the kernel, port id 0), so each call returns the kernel's own
 * answer: 0, or its errno negated. Replies are parsed with the length of
 * every header and attribute checked against what was received.
 *
 * What we add is remembered in a small growable array and undone in reverse
 * order by netcfg_restore(). The link's MTU and up state are not undone: a
 * non-persistent TUN device disappears with its fd anyway.
 */
#include "tun/netcfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/*
 * Our routes carry a protocol number of their own (like "proto bird" or
 * "proto keepalived"): `ip route show proto 116` lists them, and our
 * RTM_DELROUTE requests name it, so we never delete a route that someone
 * else added for the same prefix. 116 is ASCII 't' and unused by
 * rtnetlink.h and iproute2's rt_protos.
 */
#define NETCFG_RTPROT 116

/* No request may block the daemon for long, even if the kernel never
 * answered (it always does; this is belt and braces). */
#define NETCFG_TIMEOUT_SEC 5

enum nc_kind { NC_ADDR, NC_ROUTE };

struct nc_entry {
	uint8_t kind;
	uint8_t family;
	uint8_t prefix;
	int ifindex;
	uint8_t addr[16]; /* address, or route destination (host bits zero) */
};

struct netcfg {
	int fd;
	uint32_t seq;
	struct nc_entry *undo;
	size_t n_undo, cap_undo;
	char err[128]; /* the kernel's extended-ack text for the last failure */
};

/* A request under construction: header, family-specific struct, attributes. */
struct nc_req {
	struct nlmsghdr *h;
	size_t cap;
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int check_addr(int family, unsigned prefix)
{
	size_t alen = addr_len(family);

	if (alen == 0)
		return -EAFNOSUPPORT;
	if (prefix > alen * 8)
		return -EINVAL;
	return 0;
}

static int req_put(struct nc_req *r, unsigned short type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(r->h->nlmsg_len);
	struct rtattr *rta;

	if (len > 0xffff - RTA_LENGTH(0) || off + RTA_SPACE(len) > r->cap)
		return -ENOBUFS;
	rta = (struct rtattr *)((uint8_t *)r->h + off);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->h->nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return 0;
}

static int req_put_u32(struct nc_req *r, unsigned short type, uint32_t v)
{
	return req_put(r, type, &v, sizeof(v));
}

/* The extended-ack message after an nlmsgerr, if the kernel sent one. */
static void parse_ext_ack(struct netcfg *nc, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off = NLMSG_LENGTH(sizeof(*e));

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NLM_F_CAPPED the whole request is echoed before the TLVs. */
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr) || e->msg.nlmsg_len > h->nlmsg_len)
			return;
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - sizeof(struct nlmsghdr);
	}
	while (off + sizeof(struct nlattr) <= h->nlmsg_len) {
		const struct nlattr *a = (const struct nlattr *)((const uint8_t *)h + off);
		size_t alen = a->nla_len;

		if (alen < NLA_HDRLEN || alen > h->nlmsg_len - off)
			return;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			const char *s = (const char *)a + NLA_HDRLEN;
			size_t n = strnlen(s, alen - NLA_HDRLEN);

			if (n >= sizeof(nc->err))
				n = sizeof(nc->err) - 1;
			memcpy(nc->err, s, n);
			nc->err[n] = '\0';
			return;
		}
		off += NLA_ALIGN(alen);
	}
}

/*
 * Send one request and wait for its acknowledgement. Returns 0, the
 * kernel's -errno, or a local -errno (-ETIMEDOUT, -EBADMSG for a reply we
 * cannot parse).
 */
static int transact(struct netcfg *nc, struct nlmsghdr *req)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	union {
		struct nlmsghdr h;
		uint8_t b[8192];
	} rx;
	ssize_t n;

	nc->err[0] = '\0';
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->nlmsg_seq = ++nc->seq;
	req->nlmsg_pid = 0;
	do
		n = sendto(nc->fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel,
		           sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != req->nlmsg_len)
		return -EIO;

	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		const struct nlmsghdr *h;
		size_t rem;

		n = recvfrom(nc->fd, rx.b, sizeof(rx.b), MSG_TRUNC, (struct sockaddr *)&from,
		             &flen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		/* Only the kernel speaks to us; a datagram cut short by our
		 * buffer cannot be parsed safely, and our acks are small. */
		if (flen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		if ((size_t)n > sizeof(rx.b))
			continue;
		rem = (size_t)n;
		for (h = &rx.h; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			const struct nlmsgerr *e;

			if (h->nlmsg_seq != nc->seq)
				continue; /* a stale answer to an earlier request */
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EBADMSG;
			e = NLMSG_DATA(h);
			if (e->error > 0 || e->error < -4095)
				return -EBADMSG;
			if (e->error)
				parse_ext_ack(nc, h);
			return e->error;
		}
	}
}

int netcfg_open(struct netcfg **out)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct timeval tv = {.tv_sec = NETCFG_TIMEOUT_SEC};
	struct netcfg *nc;
	int one = 1, err;

	*out = NULL;
	nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	nc->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nc->fd < 0) {
		err = -errno;
		free(nc);
		return err;
	}
	/* Extended acks give a reason worth logging; capped acks keep the
	 * kernel from echoing our request back. Both are optional (Linux
	 * 4.12 and 4.2), so failures to set them are ignored. */
	setsockopt(nc->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nc->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(nc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(nc->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(nc->fd);
		free(nc);
		return err;
	}
	*out = nc;
	return 0;
}

const char *netcfg_strerror(const struct netcfg *nc)
{
	return nc ? nc->err : "";
}

/* Room for one more undo entry, made before the request so that whatever
 * the kernel accepts can always be remembered. */
static int undo_reserve(struct netcfg *nc)
{
	struct nc_entry *u;
	size_t cap;

	if (nc->n_undo < nc->cap_undo)
		return 0;
	cap = nc->cap_undo ? nc->cap_undo * 2 : 16;
	u = realloc(nc->undo, cap * sizeof(*u));
	if (!u)
		return -ENOMEM;
	nc->undo = u;
	nc->cap_undo = cap;
	return 0;
}

static void undo_push(struct netcfg *nc, enum nc_kind kind, int ifindex, int family,
                      const uint8_t *addr, unsigned prefix)
{
	struct nc_entry *e = &nc->undo[nc->n_undo++];

	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)kind;
	e->family = (uint8_t)family;
	e->prefix = (uint8_t)prefix;
	e->ifindex = ifindex;
	memcpy(e->addr, addr, addr_len(family));
}

int netcfg_link_set(struct netcfg *nc, int ifindex, unsigned mtu, int up)
{
	union {
		struct nlmsghdr h;
		uint8_t b[NLMSG_SPACE(sizeof(struct ifinfomsg)) + 64];
	} buf;
	struct nc_req r = {&buf.h, sizeof(buf)};
	struct ifinfomsg *ifi;
	int rc;

	if (ifindex <= 0)
		return -EINVAL;
	memset(&buf, 0, sizeof(buf));
	buf.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	buf.h.nlmsg_type = RTM_NEWLINK;
	ifi = NLMSG_DATA(&buf.h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	/* ifi_change says which flag bits to touch: only IFF_UP. */
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (mtu) {
		rc = req_put_u32(&r, IFLA_MTU, mtu);
		if (rc < 0)
			return rc;
	}
	return transact(nc, &buf.h);
}

/* RTM_NEWADDR / RTM_DELADDR. */
static int addr_msg(struct netcfg *nc, uint16_t type, int ifindex, int family, const uint8_t *addr,
                    unsigned prefix)
{
	union {
		struct nlmsghdr h;
		uint8_t b[NLMSG_SPACE(sizeof(struct ifaddrmsg)) + 96];
	} buf;
	struct nc_req r = {&buf.h, sizeof(buf)};
	struct ifaddrmsg *ifa;
	size_t alen = addr_len(family);
	int rc;

	memset(&buf, 0, sizeof(buf));
	buf.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	buf.h.nlmsg_type = type;
	if (type == RTM_NEWADDR)
		buf.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = NLMSG_DATA(&buf.h);
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on a
	 * point-to-point link, and the same address when there is none
	 * (a TUN device is IFF_POINTOPOINT). */
	rc = req_put(&r, IFA_LOCAL, addr, alen);
	if (rc == 0)
		rc = req_put(&r, IFA_ADDRESS, addr, alen);
	if (rc == 0 && family == AF_INET6 && type == RTM_NEWADDR) {
		/* No Duplicate Address Detection (RFC 4862 §5.4): on a tunnel
		 * there is nobody to collide with, and a tentative address
		 * cannot be bound to or used as a route's source for a
		 * second or more. */
		ifa->ifa_flags = IFA_F_NODAD;
		rc = req_put_u32(&r, IFA_FLAGS, IFA_F_NODAD);
	}
	if (rc < 0)
		return rc;
	return transact(nc, &buf.h);
}

int netcfg_addr_add(struct netcfg *nc, int ifindex, int family, const uint8_t *addr,
                    unsigned prefix)
{
	int rc = check_addr(family, prefix);

	if (rc < 0)
		return rc;
	if (ifindex <= 0 || !addr)
		return -EINVAL;
	rc = undo_reserve(nc);
	if (rc < 0)
		return rc;
	rc = addr_msg(nc, RTM_NEWADDR, ifindex, family, addr, prefix);
	/* -EEXIST: the address was there before us, so not ours to remove. */
	if (rc == 0)
		undo_push(nc, NC_ADDR, ifindex, family, addr, prefix);
	return rc;
}

/* What was removed (or was gone already) leaves the undo list, the
 * others keeping their order. */
static void undo_forget(struct netcfg *nc, int kind, int ifindex, int family, const uint8_t *addr,
                        size_t alen, unsigned prefix)
{
	for (size_t i = nc->n_undo; i-- > 0;) {
		struct nc_entry *e = &nc->undo[i];

		if ((int)e->kind == kind && e->ifindex == ifindex && e->family == family &&
		    e->prefix == prefix && memcmp(e->addr, addr, alen) == 0) {
			memmove(e, e + 1, (nc->n_undo - i - 1) * sizeof(*e));
			nc->n_undo--;
			return;
		}
	}
}

int netcfg_addr_del(struct netcfg *nc, int ifindex, int family, const uint8_t *addr,
                    unsigned prefix)
{
	size_t alen;
	int rc = check_addr(family, prefix);

	if (rc < 0)
		return rc;
	if (ifindex <= 0 || !addr)
		return -EINVAL;
	alen = addr_len(family);
	rc = addr_msg(nc, RTM_DELADDR, ifindex, family, addr, prefix);
	if (rc != 0 && rc != -EADDRNOTAVAIL)
		return rc;
	undo_forget(nc, NC_ADDR, ifindex, family, addr, alen, prefix);
	return rc;
}

/* The destination with its host bits cleared: IPv4 refuses a route whose
 * destination has bits beyond the prefix ("invalid prefix"). */
static void mask_prefix(uint8_t *out, const uint8_t *in, size_t alen, unsigned prefix)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;

		out[i] = bits >= 8 ? in[i] : (uint8_t)(in[i] & (0xff00u >> bits));
	}
}

/* RTM_NEWROUTE / RTM_DELROUTE in the main table, through the interface. */
static int route_msg(struct netcfg *nc, uint16_t type, int ifindex, int family, const uint8_t *dst,
                     unsigned prefix, const uint8_t *src)
{
	union {
		struct nlmsghdr h;
		uint8_t b[NLMSG_SPACE(sizeof(struct rtmsg)) + 96];
	} buf;
	struct nc_req r = {&buf.h, sizeof(buf)};
	struct rtmsg *rtm;
	size_t alen = addr_len(family);
	int rc = 0;

	memset(&buf, 0, sizeof(buf));
	buf.h.nlmsg_len = NLMSG_LENGTH(sizeof(*rtm));
	buf.h.nlmsg_type = type;
	rtm = NLMSG_DATA(&buf.h);
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = NETCFG_RTPROT;
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_NEWROUTE) {
		buf.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
		/* Scope link: the destination is reached directly through the
		 * tunnel, there is no gateway. */
		rtm->rtm_scope = RT_SCOPE_LINK;
	} else {
		/* Match any scope, but only our protocol and interface. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (prefix > 0)
		rc = req_put(&r, RTA_DST, dst, alen);
	if (rc == 0)
		rc = req_put_u32(&r, RTA_OIF, (uint32_t)ifindex);
	if (rc == 0 && src)
		rc = req_put(&r, RTA_PREFSRC, src, alen);
	if (rc < 0)
		return rc;
	return transact(nc, &buf.h);
}

int netcfg_route_add(struct netcfg *nc, int ifindex, int family, const uint8_t *dst,
                     unsigned prefix, const uint8_t *src)
{
	uint8_t net[16];
	int rc = check_addr(family, prefix);

	if (rc < 0)
		return rc;
	if (ifindex <= 0 || !dst)
		return -EINVAL;
	mask_prefix(net, dst, addr_len(family), prefix);
	rc = undo_reserve(nc);
	if (rc < 0)
		return rc;
	rc = route_msg(nc, RTM_NEWROUTE, ifindex, family, net, prefix, src);
	if (rc == 0)
		undo_push(nc, NC_ROUTE, ifindex, family, net, prefix);
	return rc;
}

int netcfg_route_del(struct netcfg *nc, int ifindex, int family, const uint8_t *dst,
                     unsigned prefix)
{
	uint8_t net[16];
	size_t alen;
	int rc = check_addr(family, prefix);

	if (rc < 0)
		return rc;
	if (ifindex <= 0 || !dst)
		return -EINVAL;
	alen = addr_len(family);
	mask_prefix(net, dst, alen, prefix);
	rc = route_msg(nc, RTM_DELROUTE, ifindex, family, net, prefix, NULL);
	if (rc != 0 && rc != -ESRCH)
		return rc;
	undo_forget(nc, NC_ROUTE, ifindex, family, net, alen, prefix);
	return rc;
}

void netcfg_restore(struct netcfg *nc)
{
	if (!nc)
		return;
	while (nc->n_undo > 0) {
		const struct nc_entry *e = &nc->undo[--nc->n_undo];

		if (e->kind == NC_ROUTE)
			route_msg(nc, RTM_DELROUTE, e->ifindex, e->family, e->addr, e->prefix,
			          NULL);
		else
			addr_msg(nc, RTM_DELADDR, e->ifindex, e->family, e->addr, e->prefix);
	}
}

void netcfg_close(struct netcfg *nc)
{
	if (!nc)
		return;
	netcfg_restore(nc);
	close(nc->fd);
	free(nc->undo);
	free(nc);
}
